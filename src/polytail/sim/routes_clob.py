"""The CLOB: public market data, L1/L2 authentication, trading, account reads."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polytail.sim import signing
from polytail.sim.engine import LedgerError, OrderRejected
from polytail.sim.exchange import EXCHANGES, ApiKey, Exchange
from polytail.sim.http import ApiError, json_body, query, query_int, reply, service_path
from polytail.sim.markets import clob_market, clob_market_compact
from polytail.sim.money import MAX_UINT256, UNIT, text

PREFIX = "/clob"
END_CURSOR = "LTE="
MAX_BATCH = 15


def routes(exchange: Exchange) -> list[Route]:
    def token_param(request: Request) -> str:
        token = query(request, "token_id", "asset_id", "market")
        if token is None:
            raise ApiError(400, "token_id is required")
        if token not in exchange.token_markets:
            raise ApiError(404, "No orderbook exists for the requested token id")
        return token

    async def ok(_: Request) -> Response:
        return reply("OK")

    async def server_time(_: Request) -> Response:
        return reply(exchange.now())

    async def version(_: Request) -> Response:
        return reply({"version": exchange.clob_version})

    async def book(request: Request) -> Response:
        return reply(exchange.book_snapshot(token_param(request)))

    async def books(request: Request) -> Response:
        _, body = await json_body(request)
        return reply([exchange.book_snapshot(_token(exchange, item)) for item in body or []])

    async def price(request: Request) -> Response:
        token = token_param(request)
        side = (query(request, "side") or "BUY").upper()
        return reply({"price": text(_side_price(exchange, token, side))})

    async def prices(request: Request) -> Response:
        _, body = await json_body(request)
        out: dict[str, dict[str, str]] = {}
        for item in body or []:
            token = _token(exchange, item)
            side = str(item.get("side", "BUY")).upper()
            out.setdefault(token, {})[side] = text(_side_price(exchange, token, side))
        return reply(out)

    async def midpoint(request: Request) -> Response:
        return reply({"mid": text(exchange.price_of(token_param(request)))})

    async def midpoints(request: Request) -> Response:
        _, body = await json_body(request)
        return reply(
            {_token(exchange, i): text(exchange.price_of(_token(exchange, i))) for i in body or []}
        )

    async def spread(request: Request) -> Response:
        book_ = exchange.engine.books[token_param(request)]
        bid, ask = book_.best_bid(), book_.best_ask()
        return reply({"spread": text(ask - bid) if bid is not None and ask is not None else "0"})

    async def last_trade_price(request: Request) -> Response:
        last = exchange.engine.books[token_param(request)].last_trade
        if last is None:
            return reply({"price": "0.5", "side": ""})
        return reply({"price": text(last[0]), "side": last[1]})

    async def last_trades_prices(request: Request) -> Response:
        _, body = await json_body(request)
        out = []
        for item in body or []:
            token = _token(exchange, item)
            last = exchange.engine.books[token].last_trade
            out.append(
                {
                    "token_id": token,
                    "price": text(last[0]) if last else "0.5",
                    "side": last[1] if last else "",
                }
            )
        return reply(out)

    async def prices_history(request: Request) -> Response:
        token = query(request, "market", "token_id")
        if token is None or token not in exchange.token_markets:
            raise ApiError(400, "market is required")
        start = query_int(request, "startTs", "start_ts", default=0)
        end = query_int(request, "endTs", "end_ts", default=2**40)
        fidelity = max(1, query_int(request, "fidelity", default=1)) * 60
        points: dict[int, float] = {}
        for trade in exchange.trades:
            if trade.taker_order.token_id == token and start <= trade.match_time <= end:
                bucket = trade.match_time - trade.match_time % fidelity
                points[bucket] = trade.fills[-1].price / UNIT
        return reply({"history": [{"t": t, "p": p} for t, p in sorted(points.items())]})

    async def tick_size(request: Request) -> Response:
        market = exchange.market_for_token(token_param(request))
        return reply({"minimum_tick_size": float(text(market.tick))})

    async def neg_risk(request: Request) -> Response:
        return reply({"neg_risk": exchange.market_for_token(token_param(request)).neg_risk})

    async def fee_rate(request: Request) -> Response:
        market = exchange.market_for_token(token_param(request))
        return reply({"base_fee": int(market.fee_rate * 10_000)})

    async def fee_rate_path(request: Request) -> Response:
        token = request.path_params["token_id"]
        if token not in exchange.token_markets:
            raise ApiError(404, "market not found")
        return reply({"base_fee": int(exchange.token_markets[token].fee_rate * 10_000)})

    async def clob_market_info(request: Request) -> Response:
        return reply(clob_market_compact(_market(exchange, request.path_params["condition_id"])))

    async def markets_by_token(request: Request) -> Response:
        token = request.path_params["token_id"]
        if token not in exchange.token_markets:
            raise ApiError(404, "market not found")
        return reply({"condition_id": exchange.token_markets[token].condition_id})

    async def market(request: Request) -> Response:
        found = _market(exchange, request.path_params["condition_id"])
        return reply(clob_market(found, prices=[exchange.price_of(t) for t in found.token_ids]))

    async def markets(request: Request) -> Response:
        offset = _cursor_offset(query(request, "next_cursor"))
        listed = list(exchange.markets.values())
        page = listed[offset : offset + 500]
        data = [clob_market(m, prices=[exchange.price_of(t) for t in m.token_ids]) for m in page]
        more = offset + 500 < len(listed)
        return reply(
            {
                "limit": 500,
                "count": len(data),
                "data": data,
                "next_cursor": _cursor(offset + 500) if more else END_CURSOR,
            }
        )

    # -- authentication -----------------------------------------------------------------

    def l1(request: Request) -> tuple[str, int]:
        address = request.headers.get("poly_address", "")
        signature = request.headers.get("poly_signature", "")
        timestamp = request.headers.get("poly_timestamp", "")
        try:
            nonce = int(request.headers.get("poly_nonce", "0"))
            recovered = signing.clob_auth_signer(
                address=address, timestamp=timestamp, nonce=nonce, signature=signature
            )
        except (ValueError, signing.SignatureRejected):
            raise ApiError(401, "Invalid L1 Request headers") from None
        if recovered.lower() != address.lower():
            raise ApiError(401, "Invalid L1 Request headers")
        return recovered, nonce

    async def l2(request: Request) -> ApiKey:
        key = exchange.api_keys.get(request.headers.get("poly_api_key", ""))
        if key is None or request.headers.get("poly_passphrase") != key.passphrase:
            raise ApiError(401, "Unauthorized/Invalid api key")
        if request.headers.get("poly_address", "").lower() != key.address.lower():
            raise ApiError(401, "Unauthorized/Invalid api key")
        raw = (await request.body()).decode()
        expected = signing.hmac_signature(
            key.secret,
            request.headers.get("poly_timestamp", ""),
            request.method,
            service_path(request, PREFIX),
            raw,
        )
        if not signing.hmac_matches(expected, request.headers.get("poly_signature", "")):
            raise ApiError(401, "Unauthorized/Invalid api key")
        return key

    def creds(key: ApiKey) -> dict[str, str]:
        return {"apiKey": key.key, "secret": key.secret, "passphrase": key.passphrase}

    async def create_api_key(request: Request) -> Response:
        address, nonce = l1(request)
        key = exchange.api_key_for(address, nonce, create=True)
        if key is None:
            raise ApiError(400, "Could not create api key")
        return reply(creds(key))

    async def derive_api_key(request: Request) -> Response:
        address, nonce = l1(request)
        key = exchange.api_key_for(address, nonce, create=False)
        assert key is not None
        return reply(creds(key))

    async def api_keys(request: Request) -> Response:
        key = await l2(request)
        owned = [k.key for k in exchange.api_keys.values() if k.address == key.address]
        return reply({"apiKeys": owned})

    async def delete_api_key(request: Request) -> Response:
        key = await l2(request)
        exchange.api_keys.pop(key.key, None)
        exchange.keys_by_owner.pop((key.address.lower(), key.nonce), None)
        return reply("OK")

    async def closed_only(request: Request) -> Response:
        await l2(request)
        return reply({"closed_only": False})

    # -- trading ------------------------------------------------------------------------

    def trading_open() -> None:
        if time.monotonic() < exchange.engine_down_until:
            raise ApiError(
                425, "Too Early: the matching engine is restarting", retry_after_seconds=1
            )

    async def post_order(request: Request) -> Response:
        key = await l2(request)
        trading_open()
        _, body = await json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid order payload")
        try:
            return reply(exchange.submit(body, key))
        except OrderRejected as rejected:
            status = 404 if rejected.code == "not_found" else 400
            raise ApiError(status, rejected.message) from None

    async def post_orders(request: Request) -> Response:
        key = await l2(request)
        trading_open()
        _, body = await json_body(request)
        if not isinstance(body, list):
            raise ApiError(400, "Invalid order payload")
        if len(body) > MAX_BATCH:
            raise ApiError(
                400, f"Too many orders in payload: {len(body)}, max allowed: {MAX_BATCH}"
            )
        out: list[dict[str, Any]] = []
        for item in body:
            try:
                out.append(exchange.submit(item if isinstance(item, dict) else {}, key))
            except OrderRejected as rejected:
                out.append(
                    {
                        "success": False,
                        "errorMsg": rejected.message,
                        "orderID": "",
                        "status": "",
                        "makingAmount": "",
                        "takingAmount": "",
                        "tradeIDs": [],
                        "transactionsHashes": [],
                    }
                )
        return reply(out)

    async def cancel_order(request: Request) -> Response:
        key = await l2(request)
        trading_open()
        _, body = await json_body(request)
        order_id = body.get("orderID") if isinstance(body, dict) else None
        if not isinstance(order_id, str):
            raise ApiError(400, "Invalid order payload")
        return reply(exchange.cancel([order_id], owner=key.key))

    async def cancel_orders(request: Request) -> Response:
        key = await l2(request)
        trading_open()
        _, body = await json_body(request)
        if not isinstance(body, list):
            raise ApiError(400, "Invalid order payload")
        return reply(exchange.cancel([str(item) for item in body], owner=key.key))

    async def cancel_all(request: Request) -> Response:
        key = await l2(request)
        trading_open()
        return reply(exchange.cancel_where(key.key))

    async def cancel_market(request: Request) -> Response:
        key = await l2(request)
        trading_open()
        _, body = await json_body(request)
        body = body if isinstance(body, dict) else {}
        return reply(
            exchange.cancel_where(
                key.key, market=str(body.get("market", "")), asset=str(body.get("asset_id", ""))
            )
        )

    async def get_order(request: Request) -> Response:
        key = await l2(request)
        order = exchange.engine.orders.get(request.path_params["order_id"])
        if order is None or order.owner != key.key:
            raise ApiError(404, "order not found")
        return reply(exchange.open_order_view(order))

    async def open_orders(request: Request) -> Response:
        key = await l2(request)
        wanted_id, asset, market_id = (
            query(request, "id"),
            query(request, "asset_id"),
            query(request, "market"),
        )
        found = [
            exchange.open_order_view(order)
            for order in exchange.engine.open_orders()
            if order.owner == key.key
            and (wanted_id is None or order.id == wanted_id)
            and (asset is None or order.token_id == asset)
            and (
                market_id is None
                or exchange.token_markets[order.token_id].condition_id == market_id
            )
        ]
        return _page(request, found)

    async def account_trades(request: Request) -> Response:
        key = await l2(request)
        wanted_id, asset, market_id = (
            query(request, "id"),
            query(request, "asset_id"),
            query(request, "market"),
        )
        after = query_int(request, "after", default=0)
        before = query_int(request, "before", default=2**40)
        found = [
            exchange.trade_view(trade, key.key)
            for trade in exchange.trades
            if key.key in trade.owners.values()
            and (wanted_id is None or trade.id == wanted_id)
            and (asset is None or trade.taker_order.token_id == asset)
            and (market_id is None or trade.market.condition_id == market_id)
            and after <= trade.match_time <= before
        ]
        return _page(request, found)

    async def balance_allowance(request: Request) -> Response:
        key = await l2(request)
        return reply(_balance_allowance(exchange, request, key))

    async def heartbeats(request: Request) -> Response:
        key = await l2(request)
        exchange.heartbeats[key.key] = time.monotonic()
        _, body = await json_body(request)
        if service_path(request, PREFIX) == "/v1/heartbeats":
            given = body.get("heartbeat_id", "") if isinstance(body, dict) else ""
            return reply({"heartbeat_id": given or key.key[:8] + "-hb"})
        return reply({"status": "ok"})

    async def notifications(request: Request) -> Response:
        await l2(request)
        return reply([])

    return [
        Route("/", ok),
        Route("/ok", ok),
        Route("/time", server_time),
        Route("/version", version),
        Route("/book", book),
        Route("/books", books, methods=["POST"]),
        Route("/price", price),
        Route("/prices", prices, methods=["POST"]),
        Route("/midpoint", midpoint),
        Route("/midpoints", midpoints, methods=["POST"]),
        Route("/spread", spread),
        Route("/last-trade-price", last_trade_price),
        Route("/last-trades-prices", last_trades_prices, methods=["POST"]),
        Route("/prices-history", prices_history),
        Route("/tick-size", tick_size),
        Route("/neg-risk", neg_risk),
        Route("/fee-rate", fee_rate),
        Route("/fee-rate/{token_id}", fee_rate_path),
        Route("/clob-markets/{condition_id}", clob_market_info),
        Route("/markets-by-token/{token_id}", markets_by_token),
        Route("/markets/{condition_id}", market),
        Route("/markets", markets),
        Route("/auth/api-key", create_api_key, methods=["POST"]),
        Route("/auth/api-key", delete_api_key, methods=["DELETE"]),
        Route("/auth/derive-api-key", derive_api_key),
        Route("/auth/api-keys", api_keys),
        Route("/auth/ban-status/closed-only", closed_only),
        Route("/order", post_order, methods=["POST"]),
        Route("/order", cancel_order, methods=["DELETE"]),
        Route("/orders", post_orders, methods=["POST"]),
        Route("/orders", cancel_orders, methods=["DELETE"]),
        Route("/cancel-all", cancel_all, methods=["DELETE"]),
        Route("/cancel-market-orders", cancel_market, methods=["DELETE"]),
        Route("/data/order/{order_id}", get_order),
        Route("/data/orders", open_orders),
        Route("/data/trades", account_trades),
        Route("/balance-allowance", balance_allowance),
        Route("/balance-allowance/update", balance_allowance),
        Route("/heartbeats", heartbeats, methods=["POST"]),
        Route("/v1/heartbeats", heartbeats, methods=["POST"]),
        Route("/notifications", notifications, methods=["GET", "DELETE"]),
    ]


def _balance_allowance(exchange: Exchange, request: Request, key: ApiKey) -> dict[str, Any]:
    asset_type = query(request, "asset_type") or "COLLATERAL"
    signature_type = int(query(request, "signature_type") or 0)
    wallet = exchange.funder(key.address, signature_type)
    engine = exchange.engine
    if asset_type == "COLLATERAL":
        balance = engine.balance(wallet) if wallet else 0
        allowances = {ex: str(engine.allowance(wallet, ex) if wallet else 0) for ex in EXCHANGES}
        return {"balance": str(balance), "allowances": allowances}
    if asset_type not in ("CONDITIONAL", "CONDITIONAL-V2"):
        raise ApiError(400, f"invalid asset_type {asset_type!r}")
    token = query(request, "token_id")
    if token is None:
        raise ApiError(400, "token_id is required for conditional assets")
    balance = engine.balance(wallet, token) if wallet else 0
    approved = {
        ex: str(MAX_UINT256 if wallet and (wallet, ex.lower()) in engine.approvals else 0)
        for ex in EXCHANGES
    }
    return {"balance": str(balance), "allowances": approved}


def _page(request: Request, items: list[dict[str, Any]]) -> Response:
    offset = _cursor_offset(query(request, "next_cursor"))
    limit = 500
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return reply(
        {
            "limit": limit,
            "count": len(page),
            "data": page,
            "next_cursor": _cursor(offset + limit) if more else END_CURSOR,
        }
    )


def _cursor(offset: int) -> str:
    import base64  # noqa: PLC0415

    return base64.b64encode(str(offset).encode()).decode()


def _cursor_offset(cursor: str | None) -> int:
    import base64  # noqa: PLC0415

    if cursor in (None, "", "MA==", END_CURSOR):
        return 0 if cursor != END_CURSOR else 10**9
    try:
        return int(base64.b64decode(cursor or "").decode())
    except ValueError:
        raise ApiError(400, "invalid next_cursor") from None


def _token(exchange: Exchange, item: object) -> str:
    token = item.get("token_id") if isinstance(item, dict) else None
    if not isinstance(token, str) or token not in exchange.token_markets:
        raise ApiError(400, "invalid token_id")
    return token


def _market(exchange: Exchange, condition_id: str) -> Any:
    found = exchange.markets.get(condition_id) or exchange.markets.get(condition_id.lower())
    if found is None:
        raise ApiError(404, "market not found")
    return found


def _side_price(exchange: Exchange, token: str, side: str) -> int:
    book = exchange.engine.books[token]
    best = book.best_ask() if side == "BUY" else book.best_bid()
    if best is None:
        raise ApiError(404, "No orderbook exists for the requested token id")
    return best


__all__ = ["PREFIX", "LedgerError", "routes"]

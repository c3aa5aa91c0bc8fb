"""The admin API (bearer token): fund, script trades, resolve, move time, inject faults,
create relayer keys."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polytail.sim import scripting
from polytail.sim.engine import LedgerError, OrderRejected
from polytail.sim.exchange import Exchange
from polytail.sim.faults import Fault, FaultError
from polytail.sim.http import ApiError, json_body, reply
from polytail.sim.money import UNIT, MoneyError, price_micros, text, units
from polytail.sim.relayer import RelayerError
from polytail.sim.tape import Profile

Handler = Callable[[dict[str, Any]], Any]


def routes(exchange: Exchange, token: str) -> list[Route]:
    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given, f"Bearer {token}"):
                raise ApiError(401, "admin token required: Authorization: Bearer <token>")
            _, body = await json_body(request)
            try:
                return reply(handler(body if isinstance(body, dict) else {}))
            except (LedgerError, MoneyError, FaultError, KeyError, ValueError) as error:
                raise ApiError(400, f"admin request refused: {error}") from None
            except OrderRejected as error:
                raise ApiError(400, error.message) from None

        return run

    def state(_: dict[str, Any]) -> dict[str, Any]:
        return {
            "now": exchange.now(),
            "seed": exchange.seed,
            "house": exchange.house,
            "markets": [
                {
                    "condition_id": m.condition_id,
                    "slug": m.slug,
                    "question": m.question,
                    "version": m.version,
                    "neg_risk": m.neg_risk,
                    "token_ids": m.token_ids,
                    "outcomes": m.outcomes,
                    "tick_size": text(m.tick),
                    "min_size": text(m.min_size),
                    "event": m.event_slug(),
                    "resolved": m.closed,
                }
                for m in exchange.markets.values()
            ],
            "wallets": {
                w.address: {
                    "owner": w.owner,
                    "kind": w.kind,
                    "name": exchange.tape.profile(w.address).name,
                }
                for w in exchange.wallets.values()
            },
        }

    def fund(body: dict[str, Any]) -> dict[str, Any]:
        wallet = str(body["wallet"])
        if body.get("owner") or body.get("kind") or body.get("name"):
            profile = Profile(
                name=str(body.get("name", "")), pseudonym=str(body.get("pseudonym", ""))
            )
            exchange.register_wallet(
                wallet, owner=body.get("owner"), kind=str(body.get("kind", "EOA")), profile=profile
            )
        exchange.fund(
            wallet, pusd=units(body.get("pusd", 0)), approve=bool(body.get("approve", True))
        )
        for condition_id, amount in (body.get("shares") or {}).items():
            exchange.split(wallet, condition_id, units(amount), fund=True)
        address = exchange.wallets[wallet.lower()].address
        if body.get("usdce"):
            exchange.usdce[address] = exchange.usdce.get(address, 0) + units(body["usdce"])
        return {"wallet": address, "pusd": text(exchange.engine.balance(address))}

    def venue(body: dict[str, Any]) -> dict[str, Any]:
        """What the venue says about itself: its order version, the geoblock answer."""
        if "clob_version" in body:
            exchange.clob_version = int(body["clob_version"])
        if "geoblock" in body:
            given = dict(body["geoblock"])
            exchange.geoblock = {
                "blocked": bool(given.get("blocked", False)),
                "country": str(given.get("country", "ZZ")),
                "region": str(given.get("region", "")),
            }
        return {"clob_version": exchange.clob_version, "geoblock": exchange.geoblock}

    def approve(body: dict[str, Any]) -> dict[str, Any]:
        wallet = exchange.wallets[str(body["wallet"]).lower()].address
        spender = str(body["spender"])
        if "amount" in body:
            exchange.engine.approve(wallet, spender, units(body["amount"]))
        if "approved" in body:
            exchange.engine.set_approval_for_all(wallet, spender, bool(body["approved"]))
        return {"wallet": wallet, "allowance": str(exchange.engine.allowance(wallet, spender))}

    def split(body: dict[str, Any]) -> dict[str, Any]:
        exchange.split(
            str(body["wallet"]),
            str(body["condition_id"]),
            units(body["amount"]),
            fund=bool(body.get("fund", True)),
        )
        return {"ok": True}

    def scripted_trade(body: dict[str, Any]) -> dict[str, Any]:
        done = scripting.trade(
            exchange,
            str(body["wallet"]),
            str(body["token_id"]),
            _side(body),
            units(body["shares"]),
            price_micros(body["price"]),
            ensure_liquidity=bool(body.get("ensure_liquidity", True)),
            fund=bool(body.get("fund", True)),
            order_type=str(body.get("order_type", "FAK")),
        )
        return done.describe()

    def burst(body: dict[str, Any]) -> dict[str, Any]:
        done = scripting.burst(
            exchange,
            str(body["wallet"]),
            str(body["token_id"]),
            _side(body),
            int(body["count"]),
            units(body["shares_each"]),
            price_micros(body["price"]),
        )
        return {
            "transaction_hash": done[0].tx_hash if done else "",
            "fills": [trade.describe() for trade in done],
        }

    def order(body: dict[str, Any]) -> dict[str, Any]:
        execution = exchange.place(
            str(body["wallet"]),
            str(body["token_id"]),
            _side(body),
            units(body["shares"]),
            price_micros(body["price"]),
            order_type=str(body.get("order_type", "GTC")),
            post_only=bool(body.get("post_only", False)),
        )
        return {
            "order_id": execution.order.id,
            "status": execution.order.status,
            "filled": text(execution.shares),
        }

    def resolve(body: dict[str, Any]) -> dict[str, Any]:
        condition_id = str(body["condition_id"])
        market = exchange.markets[condition_id]
        if "payouts" in body:
            payouts = tuple(units(p) for p in body["payouts"])
        else:
            winner = int(body["winner"])
            payouts = tuple(UNIT if i == winner else 0 for i in range(len(market.token_ids)))
        exchange.resolve(condition_id, payouts)
        return {"condition_id": condition_id, "payouts": [text(p) for p in payouts]}

    def redeem(body: dict[str, Any]) -> dict[str, Any]:
        paid = exchange.redeem(str(body["wallet"]), str(body["condition_id"]))
        return {"paid": text(paid)}

    def relayer_key(body: dict[str, Any]) -> dict[str, Any]:
        """A key the relayer will accept: a Relayer API key for `address`, or (without
        one) a Builder API key."""
        if body.get("address"):
            try:
                created = exchange.relayer.create_relayer_key(str(body["address"]))
            except RelayerError as error:
                raise ValueError(error.message) from None
            return {"kind": "relayer", "key": created.key, "address": created.address}
        builder = exchange.relayer.create_builder_key()
        return {
            "kind": "builder",
            "key": builder.key,
            "secret": builder.secret,
            "passphrase": builder.passphrase,
        }

    def settle_trade(body: dict[str, Any]) -> dict[str, Any]:
        trade = exchange.settle_trade(str(body["trade_id"]), str(body.get("status", "CONFIRMED")))
        return {"trade_id": trade.id, "status": trade.status}

    def fail_trade(body: dict[str, Any]) -> dict[str, Any]:
        trade = exchange.fail_trade(str(body["trade_id"]))
        return {"trade_id": trade.id, "status": trade.status}

    def advance(body: dict[str, Any]) -> dict[str, Any]:
        ran = exchange.advance(float(body.get("seconds", 0)))
        return {"now": exchange.now(), "actions": ran}

    def ledger(_: dict[str, Any]) -> dict[str, Any]:
        return exchange.ledger()

    def faults(body: dict[str, Any]) -> dict[str, Any]:
        if "set" in body:
            exchange.faults.set([Fault.parse(raw) for raw in body["set"]])
        for raw in body.get("add") or []:
            exchange.faults.add(Fault.parse(raw))
        if body.get("clear"):
            exchange.faults.clear()
        return {"faults": [fault.describe() for fault in exchange.faults.active]}

    def restart(body: dict[str, Any]) -> dict[str, Any]:
        down = float(body.get("down_seconds", 1.0))
        post_only = float(body.get("post_only_seconds", 120.0))
        now = time.monotonic()
        exchange.engine_down_until = now + down
        exchange.post_only_until = now + down + post_only
        return {"down_seconds": down, "post_only_seconds": post_only}

    def drop(body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel")
        if channel not in (None, "market", "user", "rtds"):
            raise ValueError("channel must be market, user or rtds")
        return {"dropped": exchange.hub.drop(channel)}

    table: dict[str, tuple[Handler, list[str]]] = {
        "/state": (state, ["GET"]),
        "/fund": (fund, ["POST"]),
        "/approve": (approve, ["POST"]),
        "/venue": (venue, ["POST"]),
        "/split": (split, ["POST"]),
        "/trade": (scripted_trade, ["POST"]),
        "/burst": (burst, ["POST"]),
        "/order": (order, ["POST"]),
        "/resolve": (resolve, ["POST"]),
        "/redeem": (redeem, ["POST"]),
        "/relayer/keys": (relayer_key, ["POST"]),
        "/trades/settle": (settle_trade, ["POST"]),
        "/trades/fail": (fail_trade, ["POST"]),
        "/clock/advance": (advance, ["POST"]),
        "/ledger": (ledger, ["GET"]),
        "/faults": (faults, ["GET", "POST"]),
        "/restart": (restart, ["POST"]),
        "/drop": (drop, ["POST"]),
    }
    return [
        Route(path, endpoint(handler), methods=methods)
        for path, (handler, methods) in table.items()
    ]


def _side(body: dict[str, Any]) -> Any:
    side = str(body.get("side", "BUY")).upper()
    if side not in ("BUY", "SELL"):
        raise ValueError("side must be BUY or SELL")
    return side

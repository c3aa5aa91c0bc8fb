"""The Data API: v1 (offset pages, camelCase) and v2 (`{data, pagination}`, cursors)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polytail.sim.exchange import Exchange
from polytail.sim.http import ApiError, query, query_bool, query_int, query_list, reply
from polytail.sim.money import number
from polytail.sim.tape import (
    Row,
    activity_v1,
    activity_v2,
    closed_position_v1,
    position_v1,
    position_v2,
    trade_v1,
    trade_v2,
)

PREFIX = "/data"
MAX_OFFSET = 10_000


def routes(exchange: Exchange) -> list[Route]:
    tape = exchange.tape

    def user_param(request: Request, *, required: bool) -> str | None:
        user = query(request, "user")
        if user is None and required:
            raise ApiError(400, "required query param 'user' not provided")
        return user.lower() if user else None

    def select(request: Request, *, trades_only: bool, taker_only: bool, v2: bool) -> list[Row]:
        user = user_param(request, required=not trades_only)
        markets = set(
            query_list(request, "condition", "condition_id", "conditionId")
            if v2
            else query_list(request, "market")
        )
        kinds = set(query_list(request, "type")) if not trades_only else {"TRADE"}
        side = query(request, "side")
        start = query_int(request, "start", default=0)
        end = query_int(request, "end", default=2**40)
        rows = [
            row
            for row in tape.rows
            if (user is None or row.wallet.lower() == user)
            and (not kinds or row.kind in kinds)
            and (not markets or row.market.condition_id in markets)
            and (side is None or row.side == side)
            and (not taker_only or row.taker)
            and start <= row.timestamp <= end
        ]
        ascending = (query(request, "sortDirection", "sort_direction") or "DESC") == "ASC"
        rows.sort(key=lambda row: (row.timestamp, row.sequence), reverse=not ascending)
        return rows

    def v1_page(
        request: Request, rows: list[Any], *, limit_default: int, limit_max: int
    ) -> list[Any]:
        limit = query_int(request, "limit", default=limit_default, low=0, high=limit_max)
        offset = query_int(request, "offset", default=0, low=0, high=MAX_OFFSET)
        return rows[offset : offset + limit]

    async def activity(request: Request) -> Response:
        rows = select(request, trades_only=False, taker_only=False, v2=False)
        page = v1_page(request, rows, limit_default=100, limit_max=500)
        return reply([activity_v1(row, tape.profile(row.wallet)) for row in page])

    async def trades(request: Request) -> Response:
        taker_only = query_bool(request, "takerOnly", default=True)
        rows = select(request, trades_only=True, taker_only=taker_only, v2=False)
        page = v1_page(request, rows, limit_default=100, limit_max=10_000)
        return reply([trade_v1(row, tape.profile(row.wallet)) for row in page])

    def holdings(request: Request) -> list[Any]:
        user = user_param(request, required=True)
        assert user is not None
        markets = set(query_list(request, "market", "condition", "condition_id"))
        return [
            h for h in exchange.holdings(user) if not markets or h.market.condition_id in markets
        ]

    async def positions(request: Request) -> Response:
        threshold = float(query(request, "sizeThreshold") or 1)
        found = [
            position_v1(h)
            for h in holdings(request)
            if h.shares / 1e6 >= threshold and h.shares > 0
        ]
        found.sort(key=lambda row: row["currentValue"], reverse=True)
        return reply(v1_page(request, found, limit_default=100, limit_max=500))

    async def closed_positions(request: Request) -> Response:
        found = [closed_position_v1(h) for h in holdings(request) if h.shares == 0]
        found.sort(key=lambda row: row["timestamp"], reverse=True)
        return reply(v1_page(request, found, limit_default=10, limit_max=50))

    async def value(request: Request) -> Response:
        user = user_param(request, required=True)
        assert user is not None
        total = sum(h.shares * h.price // 1_000_000 for h in exchange.holdings(user))
        return reply([{"user": user, "value": number(total)}])

    async def leaderboard(request: Request) -> Response:
        rows = _leaderboard(exchange)
        page = v1_page(request, rows, limit_default=25, limit_max=50)
        return reply(
            [
                {
                    "rank": str(index + 1),
                    "proxyWallet": wallet,
                    "userName": tape.profile(wallet).name,
                    "vol": number(volume),
                    "pnl": number(pnl),
                    "profileImage": "",
                    "xUsername": "",
                    "verifiedBadge": False,
                }
                for index, (wallet, volume, pnl) in enumerate(page)
            ]
        )

    async def lb_profit(request: Request) -> Response:
        rows = _leaderboard(exchange)[: query_int(request, "limit", default=25, high=1000)]
        return reply(
            [
                {
                    "proxyWallet": wallet,
                    "amount": number(pnl),
                    "pseudonym": tape.profile(wallet).pseudonym,
                    "name": tape.profile(wallet).name,
                    "bio": "",
                    "profileImage": "",
                    "profileImageOptimized": "",
                    "period": query(request, "window") or "all",
                }
                for wallet, _, pnl in rows
            ]
        )

    # -- v2 -----------------------------------------------------------------------------

    def v2_page(
        request: Request, items: list[Any], render: Callable[[Any], dict[str, Any]]
    ) -> Response:
        if query(request, "offset") is not None:
            raise ApiError(
                400,
                "offset is not supported: paginate with cursor",
                code="INVALID_PARAMETER",
                retryable=False,
                trace_id="sim",
            )
        limit = query_int(request, "limit", default=100, low=1, high=1000)
        fingerprint = _fingerprint(request)
        offset = _decode_cursor(query(request, "cursor"), fingerprint)
        page = items[offset : offset + limit]
        more = offset + limit < len(items)
        return reply(
            {
                "data": [render(item) for item in page],
                "pagination": {
                    "limit": limit,
                    "offset": offset,
                    "has_more": more,
                    "next_cursor": _encode_cursor(offset + limit, fingerprint) if more else None,
                },
            }
        )

    async def activity_v2_route(request: Request) -> Response:
        rows = select(request, trades_only=False, taker_only=False, v2=True)
        return v2_page(request, rows, lambda row: activity_v2(row, tape.profile(row.wallet)))

    async def trades_v2_route(request: Request) -> Response:
        taker_only = query_bool(request, "taker_only", "takerOnly", default=True)
        rows = select(request, trades_only=True, taker_only=taker_only, v2=True)
        return v2_page(request, rows, lambda row: trade_v2(row, tape.profile(row.wallet)))

    async def positions_v2_route(request: Request) -> Response:
        status = query(request, "status")
        found = [h for h in holdings(request) if h.shares > 0 or status == "CLOSED"]
        rendered = [position_v2(h, tape.profile(h.wallet)) for h in found]
        if status:
            rendered = [row for row in rendered if row["status"] == status]
        return v2_page(request, rendered, lambda row: row)

    async def value_v2(request: Request) -> Response:
        user = user_param(request, required=True)
        assert user is not None
        total = sum(h.shares * h.price // 1_000_000 for h in exchange.holdings(user))
        return reply({"data": {"proxy_wallet": user, "value": number(total)}})

    return [
        Route("/activity", activity),
        Route("/trades", trades),
        Route("/positions", positions),
        Route("/closed-positions", closed_positions),
        Route("/value", value),
        Route("/v1/leaderboard", leaderboard),
        Route("/lb/profit", lb_profit),
        Route("/v2/activity", activity_v2_route),
        Route("/v2/trades", trades_v2_route),
        Route("/v2/positions", positions_v2_route),
        Route("/v2/value", value_v2),
    ]


def _leaderboard(exchange: Exchange) -> list[tuple[str, int, int]]:
    volume: dict[str, int] = {}
    pnl: dict[str, int] = {}
    for row in exchange.tape.rows:
        if row.kind == "TRADE":
            wallet = row.wallet.lower()
            volume[wallet] = volume.get(wallet, 0) + row.usdc
    for (wallet, _), basis in exchange.tape.basis.items():
        pnl[wallet] = pnl.get(wallet, 0) + basis.realized
    ranked = sorted(volume, key=lambda w: (pnl.get(w, 0), volume[w]), reverse=True)
    return [(w, volume[w], pnl.get(w, 0)) for w in ranked]


def _fingerprint(request: Request) -> str:
    params = sorted(
        (k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "limit")
    )
    return base64.b64encode(json.dumps(params).encode()).decode()[-16:]


def _encode_cursor(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, fingerprint]).encode()).decode()


def _decode_cursor(cursor: str | None, fingerprint: str) -> int:
    if not cursor:
        return 0
    try:
        offset, seen = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise ApiError(
            400, "invalid cursor", code="INVALID_CURSOR", retryable=False, trace_id="sim"
        ) from None
    if seen != fingerprint:
        return 0  # the venue silently re-anchors a walk whose filters changed
    return int(offset)

"""Data API v1 and v2: activity, trades, positions, closed positions, value, leaderboard.

v1 pages by `offset` (capped at 10,000: a walk that reaches the cap reports `truncated`
so the caller narrows its time window). v2 wraps every reply in `{data, pagination}`,
pages by cursor only, and re-anchors silently if a filter changes mid-walk, so each walk
re-sends exactly the same filters with every cursor.

The first page of a v2 listing is CDN-cached (activity 15 s, trades 300 s); a poller
that repeats the same URL reads stale data. Walks therefore always send an explicit
`start`, which a poller moves forward with its watermark, so the URL changes.

`/trades` defaults to taker fills only; every trades call here sends
`takerOnly=false` / `taker_only=false` unless asked otherwise, or a leader's maker
fills would be missed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from polytail.domain.fills import FeedSource
from polytail.domain.ids import Address
from polytail.venue.errors import MalformedRow, UnexpectedResponse
from polytail.venue.http import HttpCore, Params
from polytail.venue.normalize.activity import activity_batch
from polytail.venue.normalize.common import Normalized, decimal_of
from polytail.venue.normalize.leaderboard import LeaderboardEntry, leaderboard_row
from polytail.venue.normalize.positions import (
    ClosedPosition,
    WalletPosition,
    closed_position_row,
    parse_rows,
    position_row,
)
from polytail.venue.normalize.trades import trades_batch

V1_MAX_OFFSET: Final = 10_000
TRADE_TYPES: Final = ("TRADE",)


@dataclass(frozen=True, slots=True)
class Walk:
    """The fills of one page walk (one occurrence-numbering batch)."""

    batch: Normalized
    pages: int
    rows: int
    truncated: bool  # stopped at the venue's offset cap: narrow the window and walk again


async def _collect(
    pages: AsyncIterator[list[Any]], normalize: Any, source: FeedSource, received_ns: int
) -> Walk:
    rows: list[Any] = []
    count = 0
    truncated = False
    async for page in pages:
        count += 1
        rows.extend(page)
        truncated = getattr(pages, "truncated", False)
    batch = normalize(rows, source=source, received_ns=received_ns)
    return Walk(batch, count, len(rows), truncated)


class _OffsetPages:
    """Async iterator over v1 offset pages; `truncated` is set when the cap stopped it."""

    def __init__(self, http: HttpCore, path: str, family: str, params: Params, size: int):
        self._http, self._path, self._family = http, path, family
        self._params, self._size = dict(params), size
        self._offset = 0
        self._done = False
        self.truncated = False

    def __aiter__(self) -> _OffsetPages:
        return self

    async def __anext__(self) -> list[Any]:
        if self._done:
            raise StopAsyncIteration
        if self._offset > V1_MAX_OFFSET:
            self.truncated = True
            raise StopAsyncIteration
        page = await self._http.get_json(
            self._path,
            family=self._family,
            params={**self._params, "limit": self._size, "offset": self._offset},
        )
        if not isinstance(page, list):
            raise UnexpectedResponse(f"data-api {self._path} did not answer a list")
        self._offset += self._size
        if len(page) < self._size:
            self._done = True
        elif self._offset > V1_MAX_OFFSET:
            self.truncated = True
            self._done = True
        return page


class DataApiV1:
    def __init__(self, http: HttpCore) -> None:
        self.http = http

    def activity_pages(
        self,
        user: Address,
        *,
        start: int | None = None,
        end: int | None = None,
        types: Iterable[str] = TRADE_TYPES,
        page_size: int = 500,
        ascending: bool = True,
        market: str | None = None,
    ) -> _OffsetPages:
        params: Params = {
            "user": user,
            "type": ",".join(types),
            "start": start,
            "end": end,
            "market": market,
            "sortBy": "TIMESTAMP",
            "sortDirection": "ASC" if ascending else "DESC",
        }
        return _OffsetPages(self.http, "/activity", "data.activity", params, page_size)

    async def activity_fills(
        self,
        user: Address,
        *,
        start: int | None = None,
        end: int | None = None,
        page_size: int = 500,
        source: FeedSource = FeedSource.POLL,
        received_ns: int = 0,
    ) -> Walk:
        pages = self.activity_pages(user, start=start, end=end, page_size=page_size)
        return await _collect(pages, activity_batch, source, received_ns)

    def trades_pages(
        self,
        user: Address | None = None,
        *,
        market: str | None = None,
        taker_only: bool = False,
        page_size: int = 500,
    ) -> _OffsetPages:
        params: Params = {"user": user, "market": market, "takerOnly": taker_only}
        return _OffsetPages(self.http, "/trades", "data.trades", params, page_size)

    async def trades_fills(
        self,
        user: Address | None = None,
        *,
        market: str | None = None,
        taker_only: bool = False,
        page_size: int = 500,
        source: FeedSource = FeedSource.POLL,
        received_ns: int = 0,
    ) -> Walk:
        pages = self.trades_pages(user, market=market, taker_only=taker_only, page_size=page_size)
        return await _collect(pages, trades_batch, source, received_ns)

    async def positions(
        self, user: Address, *, size_threshold: Decimal | None = None, page_size: int = 500
    ) -> tuple[list[WalletPosition], list[MalformedRow]]:
        rows: list[Any] = []
        params: Params = {"user": user, "sizeThreshold": str(size_threshold or 0)}
        async for page in _OffsetPages(
            self.http, "/positions", "data.positions", params, page_size
        ):
            rows.extend(page)
        return parse_rows(rows, position_row)

    async def closed_positions(
        self, user: Address, *, page_size: int = 50
    ) -> tuple[list[ClosedPosition], list[MalformedRow]]:
        rows: list[Any] = []
        async for page in _OffsetPages(
            self.http, "/closed-positions", "data.closed_positions", {"user": user}, page_size
        ):
            rows.extend(page)
        return parse_rows(rows, closed_position_row)

    async def value(self, user: Address) -> Decimal:
        """Portfolio value in USD. UNCERTAIN shape: `[{"user", "value"}]`."""
        raw = await self.http.get_json("/value", family="data", params={"user": user})
        entry = raw[0] if isinstance(raw, list) and raw else raw
        if not isinstance(entry, dict):
            raise MalformedRow("data-api value", "value", "reply is not an object", raw)
        return decimal_of(entry.get("value"), "value", "data-api value", raw)

    async def leaderboard(
        self,
        *,
        category: str = "OVERALL",
        time_period: str = "ALL",
        order_by: str = "PNL",
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[LeaderboardEntry], list[MalformedRow]]:
        raw = await self.http.get_json(
            "/v1/leaderboard",
            family="data",
            params={
                "category": category,
                "timePeriod": time_period,
                "orderBy": order_by,
                "limit": limit,
                "offset": offset,
            },
        )
        if not isinstance(raw, list):
            raise UnexpectedResponse("data-api leaderboard did not answer a list")
        return parse_rows(raw, leaderboard_row)


def envelope(raw: Any, path: str) -> tuple[Any, str | None]:
    """v2 `{data, pagination: {has_more, next_cursor}}` → (data, next cursor or None)."""
    if not isinstance(raw, Mapping) or "data" not in raw:
        raise UnexpectedResponse(f"data-api {path}: reply is not a v2 envelope")
    pagination = raw.get("pagination") or {}
    cursor = pagination.get("next_cursor") if isinstance(pagination, Mapping) else None
    if isinstance(pagination, Mapping) and pagination.get("has_more") is False:
        cursor = None
    return raw["data"], (str(cursor) if cursor else None)


class DataApiV2:
    """`/v2/...`: cursor pagination, the same filters on every page, snake_case rows."""

    def __init__(self, http: HttpCore) -> None:
        self.http = http

    async def pages(self, path: str, family: str, params: Params) -> AsyncIterator[list[Any]]:
        filters = dict(params)  # frozen for the whole walk
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            raw = await self.http.get_json(
                path, family=family, params={**filters, "cursor": cursor}
            )
            data, cursor = envelope(raw, path)
            yield list(data) if isinstance(data, list) else []
            if cursor is None or cursor in seen:
                return
            seen.add(cursor)

    async def activity_fills(
        self,
        user: Address,
        *,
        start: int = 1,
        end: int | None = None,
        page_size: int = 500,
        source: FeedSource = FeedSource.POLL,
        received_ns: int = 0,
    ) -> Walk:
        """`start=1` asks for full history (an omitted start floors to 3 years back)."""
        params: Params = {
            "user": user,
            "type": "TRADE",
            "start": start,
            "end": end,
            "limit": page_size,
            "sort_direction": "ASC",
        }
        pages = self.pages("/v2/activity", "data.v2.activity", params)
        return await _collect(pages, activity_batch, source, received_ns)

    async def trades_fills(
        self,
        user: Address,
        *,
        start: int = 1,
        end: int | None = None,
        taker_only: bool = False,
        page_size: int = 500,
        source: FeedSource = FeedSource.POLL,
        received_ns: int = 0,
    ) -> Walk:
        params: Params = {
            "user": user,
            "start": start,
            "end": end,
            "taker_only": taker_only,
            "limit": page_size,
        }
        pages = self.pages("/v2/trades", "data.v2.trades", params)
        return await _collect(pages, trades_batch, source, received_ns)

    async def positions(
        self, user: Address, *, status: str = "OPEN", page_size: int = 500
    ) -> tuple[list[WalletPosition], list[MalformedRow]]:
        rows: list[Any] = []
        params: Params = {"user": user, "status": status, "limit": page_size}
        async for page in self.pages("/v2/positions", "data.v2.positions", params):
            rows.extend(page)
        return parse_rows(rows, position_row)

    async def closed_positions(
        self, user: Address, *, page_size: int = 500
    ) -> tuple[list[ClosedPosition], list[MalformedRow]]:
        rows: list[Any] = []
        params: Params = {"user": user, "status": "CLOSED", "limit": page_size}
        async for page in self.pages("/v2/positions", "data.v2.positions", params):
            rows.extend(page)
        return parse_rows(rows, closed_position_row)

    async def value(self, user: Address) -> Decimal:
        raw = await self.http.get_json("/v2/value", family="data", params={"user": user})
        data, _ = envelope(raw, "/v2/value")
        if not isinstance(data, dict):
            raise MalformedRow("data-api v2 value", "data", "is not an object", raw)
        return decimal_of(data.get("value"), "value", "data-api v2 value", raw)

    async def leaderboard(
        self,
        *,
        category: str = "overall",
        time_period: str = "all",
        sort_by: str = "PNL",
        limit: int = 50,
        max_pages: int = 1,
    ) -> tuple[list[LeaderboardEntry], list[MalformedRow]]:
        rows: list[Any] = []
        params: Params = {
            "category": category,
            "time_period": time_period,
            "sort_by": sort_by,
            "limit": limit,
        }
        pages = 0
        async for page in self.pages("/v2/leaderboard", "data", params):
            rows.extend(page)
            pages += 1
            if pages >= max_pages:
                break
        return parse_rows(rows, leaderboard_row)

"""Live order books: kept current from the market channel, fetched by REST when needed.

The market channel sends a full `book` on subscribe and after trades, and
`price_change` deltas (the new total size at one price level; 0 removes it) in
between. The cache applies both to per-token level maps and builds a best-first
`OrderBook` only when someone asks (and only once per change). A book that has not
been updated for `max_age_s`, or was never received, is fetched from `/book`; after a
reconnect every book is treated as stale until the channel resends it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from polytail.domain.book import Level, OrderBook
from polytail.domain.ids import TokenId
from polytail.domain.money import Price, Shares
from polytail.venue.clob import ClobPublic
from polytail.venue.clob_ws import MarketChannel
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.book import book_from_clob
from polytail.venue.normalize.common import shares_of, tick_price, token_of
from polytail.venue.normalize.gamma import checked_tick
from polytail.venue.ws import Reconnected

ORIGIN = "clob market channel"


@dataclass(slots=True)
class _LiveBook:
    bids: dict[int, int] = field(default_factory=dict)  # price micros -> share units
    asks: dict[int, int] = field(default_factory=dict)
    tick: Price | None = None
    min_size: Shares | None = None
    timestamp_ms: int = 0
    updated_at: float = 0.0
    built: OrderBook | None = None

    def load(self, book: OrderBook, now: float) -> None:
        self.bids = {level.price.micros: level.size.units for level in book.bids}
        self.asks = {level.price.micros: level.size.units for level in book.asks}
        self.tick = book.tick or self.tick
        self.min_size = book.min_size or self.min_size
        self.timestamp_ms = book.timestamp_ms
        self.updated_at = now
        self.built = book

    def build(self, token: TokenId) -> OrderBook:
        if self.built is None:
            self.built = OrderBook(
                token_id=token,
                bids=tuple(
                    Level(Price(p), Shares(self.bids[p])) for p in sorted(self.bids, reverse=True)
                ),
                asks=tuple(Level(Price(p), Shares(self.asks[p])) for p in sorted(self.asks)),
                timestamp_ms=self.timestamp_ms,
                tick=self.tick,
                min_size=self.min_size,
            )
        return self.built


class BookCache:
    def __init__(
        self,
        clob: ClobPublic | None = None,
        *,
        max_age_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clob = clob
        self.max_age_s = max_age_s
        self._clock = clock
        self._books: dict[TokenId, _LiveBook] = {}
        self._inflight: dict[TokenId, asyncio.Task[OrderBook]] = {}
        self.rejects: list[MalformedRow] = []

    def peek(self, token: TokenId) -> OrderBook | None:
        live = self._books.get(token)
        return live.build(token) if live else None

    def age_s(self, token: TokenId) -> float | None:
        live = self._books.get(token)
        return None if live is None else self._clock() - live.updated_at

    async def book(self, token: TokenId, *, max_age_s: float | None = None) -> OrderBook:
        """A book no older than `max_age_s`: the live one, else fetched from `/book`."""
        limit = self.max_age_s if max_age_s is None else max_age_s
        live = self._books.get(token)
        if live is not None and self._clock() - live.updated_at <= limit:
            return live.build(token)
        if self.clob is None:
            raise LookupError(f"no live book for {token} and no REST fallback")
        task = self._inflight.get(token)
        if task is None:
            task = asyncio.create_task(self._fetch(token))
            self._inflight[token] = task
        return await asyncio.shield(task)

    async def _fetch(self, token: TokenId) -> OrderBook:
        assert self.clob is not None
        try:
            book = await self.clob.book(token)
            self._books.setdefault(token, _LiveBook()).load(book, self._clock())
            return book
        finally:
            self._inflight.pop(token, None)

    def mark_all_stale(self) -> None:
        for live in self._books.values():
            live.updated_at = float("-inf")

    def apply(self, event: dict[str, Any]) -> list[TokenId]:
        """Apply one market-channel event; returns the tokens whose book changed.

        A malformed event is kept in `rejects` and changes nothing.
        """
        try:
            return self._apply(event)
        except MalformedRow as error:
            self.rejects.append(error)
            return []

    def _apply(self, event: dict[str, Any]) -> list[TokenId]:
        kind = event.get("event_type")
        now = self._clock()
        if kind == "book":
            book = book_from_clob(event)
            self._books.setdefault(book.token_id, _LiveBook()).load(book, now)
            return [book.token_id]
        if kind == "price_change":
            changes = event.get("price_changes") or event.get("changes")
            if not isinstance(changes, list):
                raise MalformedRow(ORIGIN, "price_changes", "is not a list", event)
            touched: list[TokenId] = []
            for change in changes:
                if not isinstance(change, dict):
                    raise MalformedRow(ORIGIN, "price_changes[]", "is not an object", event)
                raw_token = change.get("asset_id") or event.get("asset_id")
                token = token_of(raw_token, "asset_id", ORIGIN, event)
                live = self._books.get(token)
                if live is None:
                    continue  # no snapshot yet: a delta alone cannot make a book
                price = tick_price(change.get("price"), "price", ORIGIN, event).micros
                size = shares_of(change.get("size"), "size", ORIGIN, event).units
                side = change.get("side")
                levels = live.bids if side == "BUY" else live.asks if side == "SELL" else None
                if levels is None:
                    raise MalformedRow(ORIGIN, "side", f"is not BUY or SELL: {side!r}", event)
                if size == 0:
                    levels.pop(price, None)
                else:
                    levels[price] = size
                live.updated_at, live.built = now, None
                touched.append(token)
            return touched
        if kind == "tick_size_change":
            token = token_of(event.get("asset_id"), "asset_id", ORIGIN, event)
            live = self._books.setdefault(token, _LiveBook())
            live.tick = checked_tick(event.get("new_tick_size"), "new_tick_size", ORIGIN, event)
            live.built = None
            return [token]
        return []

    async def run(self, channel: MarketChannel) -> None:
        """Feed the cache from a market channel until the channel is closed."""
        async for event in channel.events():
            if isinstance(event, Reconnected):
                self.mark_all_stale()
            else:
                self.apply(event)

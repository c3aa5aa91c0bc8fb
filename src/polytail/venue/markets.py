"""A bounded TTL cache of market metadata that the hot path never waits on twice.

- **Single flight**: concurrent lookups of one market share one request.
- **Stale while revalidate**: a market seen before is returned at once even when its
  TTL has passed; one background refresh replaces it. Only a market never seen waits.
- **Bounded**: least recently used markets are evicted past `maxsize` (cachetools'
  LRU), so a long run watching many leaders cannot grow without limit.
- **By token too**: every cached market indexes its outcome ids, so a fill (which
  carries a token id) finds its market without asking Gamma.

A failed refresh keeps serving the stale market (and counts the failure); a failed
first load raises to the caller, who skips that fill with the error's reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cachetools import LRUCache

from polytail.domain.ids import ConditionId, TokenId
from polytail.domain.market import Market

Loader = Callable[[ConditionId], Awaitable[Market]]
TokenLoader = Callable[[TokenId], Awaitable[Market]]


@dataclass(frozen=True, slots=True)
class _Entry:
    market: Market
    fetched_at: float


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    stale_hits: int = 0
    misses: int = 0
    loads: int = 0
    refresh_failures: int = 0


class MarketCache:
    def __init__(
        self,
        load: Loader,
        *,
        load_by_token: TokenLoader | None = None,
        ttl_s: float = 300.0,
        maxsize: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._load_by_token = load_by_token
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: LRUCache[ConditionId, _Entry] = LRUCache(maxsize=maxsize)
        self._by_token: dict[TokenId, ConditionId] = {}
        self._inflight: dict[ConditionId, asyncio.Task[Market]] = {}
        self._refreshing: set[asyncio.Task[Market]] = set()
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, condition: ConditionId) -> Market | None:
        """The cached market (fresh or stale) without any I/O, or None."""
        entry = self._entries.get(condition)
        return entry.market if entry else None

    def peek_token(self, token: TokenId) -> Market | None:
        condition = self._by_token.get(token)
        return self.peek(condition) if condition else None

    def put(self, market: Market) -> None:
        self._entries[market.condition_id] = _Entry(market, self._clock())
        for outcome in market.outcomes:
            self._by_token[outcome.token_id] = market.condition_id

    def invalidate(self, condition: ConditionId) -> None:
        """Forget a market (after a `tick_size_change` or a tick rejection)."""
        self._entries.pop(condition, None)

    async def get(self, condition: ConditionId) -> Market:
        entry = self._entries.get(condition)
        if entry is not None:
            if self._clock() - entry.fetched_at < self.ttl_s:
                self.stats.hits += 1
            else:
                self.stats.stale_hits += 1
                self._refresh_in_background(condition)
            return entry.market
        self.stats.misses += 1
        # shield: a caller that gives up must not cancel the load others are awaiting
        return await asyncio.shield(self._single_flight(condition))

    async def get_by_token(self, token: TokenId) -> Market:
        condition = self._by_token.get(token)
        if condition is not None and condition in self._entries:
            return await self.get(condition)
        if self._load_by_token is None:
            raise LookupError(f"no cached market holds outcome {token} and no token loader")
        market = await self._load_by_token(token)
        self.stats.loads += 1
        self.put(market)
        return market

    def _single_flight(self, condition: ConditionId) -> asyncio.Task[Market]:
        task = self._inflight.get(condition)
        if task is None:
            task = asyncio.create_task(self._fetch(condition))
            self._inflight[condition] = task
        return task

    async def _fetch(self, condition: ConditionId) -> Market:
        try:
            market = await self._load(condition)
            self.stats.loads += 1
            self.put(market)
            return market
        finally:
            self._inflight.pop(condition, None)

    def _refresh_in_background(self, condition: ConditionId) -> None:
        if condition in self._inflight:
            return
        task = self._single_flight(condition)
        self._refreshing.add(task)
        task.add_done_callback(self._refresh_done)

    def _refresh_done(self, task: asyncio.Task[Market]) -> None:
        self._refreshing.discard(task)
        if task.cancelled():
            return
        if task.exception() is not None:
            self.stats.refresh_failures += 1  # keep serving the stale market

    async def close(self) -> None:
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

"""The venue's published rate limits, declared once, and the limiter that holds them.

Limits are per IP over 10-second sliding windows (polymarket-api.md §7). A request of a
family counts against the family and every parent up to "all" (a Gamma `/markets` call
spends from `gamma.markets`, `gamma` and `all`), so each limiter on the chain is acquired.

Why this holds a *sliding-window* budget: each family gets an `aiolimiter` leaky bucket
with capacity `b` (the burst) and leak rate `r`. In any window of length T at most
`b + r*T` requests pass, so choosing `b + r*T = share x limit` keeps every window within
the share of the published limit that `venue.rate_limit_share` allows, however many
tasks call at once. The burst fraction trades start-up latency against steadiness.

A 429 pauses the whole family for its `Retry-After`, so concurrent callers stop too
instead of each discovering the limit on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from aiolimiter import AsyncLimiter

from polytail.venue.stats import VenueStats


@dataclass(frozen=True, slots=True)
class Limit:
    family: str
    requests: int
    window_s: float
    parent: str | None
    note: str = ""


PUBLISHED: Final[tuple[Limit, ...]] = (
    Limit("all", 15_000, 10, None, "every API, per IP"),
    Limit("gamma", 4_000, 10, "all"),
    Limit("gamma.markets", 300, 10, "gamma"),
    Limit("gamma.events", 500, 10, "gamma"),
    Limit("data", 1_000, 10, "all", "Data API v1 general"),
    Limit("data.activity", 1_000, 10, "data", "no own limit published; the general one"),
    Limit("data.trades", 200, 10, "data"),
    Limit("data.positions", 150, 10, "data"),
    Limit("data.closed_positions", 150, 10, "data"),
    Limit("data.v2.activity", 400, 10, "data", "unpublished; measured clean at 40 req/s"),
    Limit("data.v2.trades", 200, 10, "data", "unpublished; throttles near 30 req/s"),
    Limit("data.v2.positions", 200, 10, "data", "unpublished; throttles near 30 req/s"),
    Limit("clob", 9_000, 10, "all"),
    Limit("clob.book", 1_500, 10, "clob"),
    Limit("clob.price", 1_500, 10, "clob"),
    Limit("clob.midpoint", 1_500, 10, "clob"),
    Limit("clob.prices_history", 1_000, 10, "clob"),
    Limit("clob.tick_size", 200, 10, "clob"),
    Limit("clob.balance", 200, 10, "clob"),
    Limit("clob.balance_update", 50, 10, "clob"),
    Limit("clob.data", 500, 10, "clob", "/data/orders and /data/trades"),
    Limit("clob.order", 3_500, 10, "clob", "POST /order burst (Cloudflare layer)"),
    Limit("clob.cancel", 3_000, 10, "clob", "DELETE /order burst"),
    Limit("rpc", 200, 10, None, "not published by public RPCs; conservative"),
)
"""The published table (docs.polymarket.com/api-reference/rate-limits, 2026)."""


class UnknownFamily(KeyError):
    pass


class RateLimiter:
    """One shared limiter per family chain; every concurrent caller draws from it."""

    def __init__(
        self,
        table: Iterable[Limit] = PUBLISHED,
        *,
        share: float = 0.9,
        burst_fraction: float = 0.1,
        stats: VenueStats | None = None,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        if not 0 < burst_fraction < 1:
            raise ValueError(f"burst_fraction must be in (0, 1), got {burst_fraction}")
        self._limits = {limit.family: limit for limit in table}
        self._buckets: dict[str, AsyncLimiter] = {}
        for limit in self._limits.values():
            budget = limit.requests * share
            burst = max(1.0, budget * burst_fraction)
            if budget <= burst:
                raise ValueError(f"{limit.family}: a budget of {budget} requests is too small")
            rate = (budget - burst) / limit.window_s  # b + r*T == budget
            self._buckets[limit.family] = AsyncLimiter(burst, burst / rate)
        self._chains = {family: self._chain(family) for family in self._limits}
        self._paused_until: dict[str, float] = {}
        self.stats = stats or VenueStats()

    def _chain(self, family: str) -> tuple[str, ...]:
        chain: list[str] = []
        current: str | None = family
        while current is not None:
            if current in chain:
                raise ValueError(f"rate-limit table has a cycle at {current}")
            chain.append(current)
            current = self._limits[current].parent
        return tuple(chain)

    def budget(self, family: str) -> tuple[float, float]:
        """(requests, window_s) this process allows itself for `family`."""
        limit = self._limits[family]
        bucket = self._buckets[family]
        return bucket.max_rate + bucket.max_rate / bucket.time_period * limit.window_s, (
            limit.window_s
        )

    def families(self) -> tuple[str, ...]:
        return tuple(self._limits)

    async def acquire(self, family: str) -> None:
        """Wait until one request of `family` fits every budget on its chain."""
        chain = self._chains.get(family)
        if chain is None:
            raise UnknownFamily(f"no rate limit declared for endpoint family {family!r}")
        loop = asyncio.get_running_loop()
        waited = False
        for name in chain:
            until = self._paused_until.get(name, 0.0)
            delay = until - loop.time()
            if delay > 0:
                waited = True
                await asyncio.sleep(delay)
        for name in chain:
            bucket = self._buckets[name]
            if not bucket.has_capacity():
                waited = True
            await bucket.acquire()
        if waited:
            self.stats.family(family).rate_limit_waits += 1

    def pause(self, family: str, seconds: float) -> None:
        """Hold every caller of `family` for `seconds` (the venue's Retry-After)."""
        if family not in self._limits or seconds <= 0:
            return
        until = asyncio.get_running_loop().time() + seconds
        if until > self._paused_until.get(family, 0.0):
            self._paused_until[family] = until

"""Backfill: read a wallet's Data API activity from a point in time, for the stream.

The stream asks for two things:

- **Gaps.** After the stream was down, every watched wallet is read from the start of
  the gap. With many wallets this takes many requests (100,000 wallets at 45 requests/s
  is over half an hour), so the order matters: wallets the stream is holding fills for
  go first (`prioritize`), then wallets by recent activity, then the rest.
- **Whole transactions.** The stream can only report one of several identical fills in a
  transaction. When identical frames repeat, the stream cannot tell a burst of real
  fills from a repeated frame, so it asks for the wallet to be read until that
  transaction shows up (`expect`), which hands out the fills the stream could not.

While a wallet's request is open, the stream holds back that wallet's later fills
(`holds`), so nothing reaches the engine ahead of a fill it follows. The hold ends when
the walk succeeds (and saw the expected transactions), after `expect_timeout_s` if the
Data API has not indexed them yet, or at the first failed walk (a 429 storm, 5xx, an open
breaker): the request is then retried in the background without holding anything. A
wallet asked for twice keeps the earlier start (windows are open-ended).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import structlog

from polytail.domain.clock import Clock
from polytail.domain.fills import FeedSource
from polytail.domain.ids import Address
from polytail.feeds.merge import FillMerger
from polytail.feeds.observe import FeedState, Health
from polytail.feeds.walk import ActivityApi, next_start
from polytail.venue.errors import VenueError

log = structlog.get_logger("polytail.feeds")

Done = Callable[[Address], Awaitable[None]]
_MAX_FAILURES = 5
_RETRY_S = 5.0
_EXPECT_RETRY_S = 0.5


@dataclass
class _Request:
    since: int
    expect: set[str] = field(default_factory=set)
    deadline: float = 0.0
    holding: bool = True
    failures: int = 0

    def merge(self, other: _Request) -> None:
        self.since = min(self.since, other.since)
        self.expect |= other.expect
        self.deadline = max(self.deadline, other.deadline)
        self.holding = self.holding or other.holding


class Backfiller:
    def __init__(
        self,
        api: ActivityApi,
        merger: FillMerger,
        *,
        health: Health,
        clock: Clock,
        page_size: int = 500,
        concurrency: int = 4,
        expect_timeout_s: float = 30.0,
    ) -> None:
        self.api = api
        self.merger = merger
        self.health = health
        self.clock = clock
        self.page_size = page_size
        self.concurrency = concurrency
        self.expect_timeout_s = expect_timeout_s
        self.on_done: Done | None = None
        self._queued: dict[Address, _Request] = {}
        self._busy: dict[Address, _Request] = {}
        self._waiting: dict[Address, _Request] = {}  # expected transaction not listed yet
        self._urgent: deque[Address] = deque()
        self._order: deque[Address] = deque()
        self._wake = asyncio.Event()
        self.walks = 0

    # --- requests ------------------------------------------------------------------------

    def request(self, since: int, wallets: Iterable[Address], *, expect: str | None = None) -> None:
        """Read `wallets` from `since` (venue seconds, inclusive), in this order; with
        `expect`, until that transaction is among the rows."""
        deadline = asyncio.get_running_loop().time() + self.expect_timeout_s
        for wallet in wallets:
            self._enqueue(wallet, _Request(since, {expect} if expect else set(), deadline=deadline))
        self._wake.set()

    def _enqueue(self, wallet: Address, request: _Request, *, urgent: bool = False) -> None:
        queued = self._queued.get(wallet)
        if queued is None:
            self._queued[wallet] = request
            (self._urgent if urgent else self._order).append(wallet)
        else:
            queued.merge(request)
        self._wake.set()

    def prioritize(self, wallet: Address) -> None:
        if wallet in self._queued:
            self._urgent.append(wallet)
            self._wake.set()

    def forget(self, wallets: Iterable[Address]) -> None:
        for wallet in wallets:
            self._queued.pop(wallet, None)
            self._waiting.pop(wallet, None)

    def holds(self, wallet: str, timestamp: int) -> bool:
        """Must the stream hold back this wallet's fill of this venue time?"""
        for table in (self._queued, self._busy, self._waiting):
            request = table.get(Address(wallet))
            if request is not None and request.holding and timestamp > request.since:
                return True
        return False

    @property
    def pending(self) -> int:
        return len(self._queued) + len(self._busy) + len(self._waiting)

    # --- working -------------------------------------------------------------------------

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(self.concurrency):
                group.create_task(self._worker())

    async def _next(self) -> Address:
        while True:
            for queue in (self._urgent, self._order):
                while queue:
                    wallet = queue.popleft()
                    if wallet in self._queued and wallet not in self._busy:
                        return wallet
            self._wake.clear()
            await self._wake.wait()

    async def _worker(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            wallet = await self._next()
            request = self._queued.pop(wallet)
            self._busy[wallet] = request
            try:
                seen = await self._walk(wallet, request.since)
            finally:
                del self._busy[wallet]
            if wallet in self._queued:  # asked again meanwhile: keep that request queued
                self._order.append(wallet)
            if seen is None:
                request.failures += 1
                request.holding = False  # retried in the background, holding nothing
                if request.failures < _MAX_FAILURES:
                    loop.call_later(_RETRY_S * request.failures, self._retry, wallet, request)
                else:
                    log.error("backfill gave up; the poll feed must cover it", wallet=wallet)
            elif not request.expect <= seen:
                request.expect -= seen
                if loop.time() < request.deadline:  # not indexed yet: read again, still holding
                    self._waiting[wallet] = request
                    loop.call_later(_EXPECT_RETRY_S, self._wake_waiting, wallet)
                    continue
                log.warning(
                    "the Data API has not listed a transaction the stream reported; "
                    "passing on the wallet's later fills",
                    wallet=wallet,
                    missing=sorted(request.expect),
                )
            if self.on_done is not None and not self._holding(wallet):
                await self.on_done(wallet)
            if not self.pending and self.health.state is FeedState.DEGRADED:
                self.health.set(FeedState.READY, "connected; backfill done")

    def _holding(self, wallet: Address) -> bool:
        return any(
            request.holding
            for request in (
                self._queued.get(wallet),
                self._busy.get(wallet),
                self._waiting.get(wallet),
            )
            if request is not None
        )

    def _wake_waiting(self, wallet: Address) -> None:
        request = self._waiting.pop(wallet, None)
        if request is not None:
            self._enqueue(wallet, request, urgent=True)

    def _retry(self, wallet: Address, request: _Request) -> None:
        self._enqueue(wallet, request)

    async def _walk(self, wallet: Address, since: int) -> set[str] | None:
        """Walk from `since` to now; the transactions seen, or None when it failed."""
        start = since
        seen: set[str] = set()
        try:
            while True:
                walk = await self.api.activity_fills(
                    wallet,
                    start=start,
                    page_size=self.page_size,
                    source=FeedSource.BACKFILL,
                    received_ns=self.clock.monotonic_ns(),
                )
                self.walks += 1
                for error in walk.batch.rejects:
                    self.health.reject(FeedSource.BACKFILL, error)
                await self.merger.submit(walk.batch.fills)
                seen.update(fill.tx_hash for fill in walk.batch.fills if fill.tx_hash)
                if not walk.truncated:
                    return seen
                start = next_start(walk, start, wallet)
        except VenueError as error:
            self.health.set(FeedState.DEGRADED, f"backfill of {wallet} failed ({error}); retrying")
            return None
        except Exception:  # a bug must not stop the other wallets' backfill
            log.exception("backfill failed unexpectedly", wallet=wallet)
            return None

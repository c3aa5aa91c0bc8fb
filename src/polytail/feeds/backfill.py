"""Backfill: after the stream was down, read the gap from the Data API, wallet by wallet.

With many watched wallets a gap takes many requests (100,000 wallets at 45 requests/s is
over half an hour), so the order matters: wallets the stream is holding fills for go
first (`prioritize`), then wallets by recent activity, then the rest. A wallet asked for
twice keeps the earlier start (a window is open-ended, so it covers both gaps).

A failed walk (a 429 storm, 5xx, the breaker open) is retried later; the wallet stops
counting as pending for the stream at once, so the stream never holds a wallet's fills
for longer than one attempt. The poll feed, when enabled, covers the same ground.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable

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
_MAX_ATTEMPTS = 5
_RETRY_S = 5.0


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
    ) -> None:
        self.api = api
        self.merger = merger
        self.health = health
        self.clock = clock
        self.page_size = page_size
        self.concurrency = concurrency
        self.on_done: Done | None = None
        self._since: dict[Address, int] = {}
        self._attempts: dict[Address, int] = {}
        self._urgent: deque[Address] = deque()
        self._order: deque[Address] = deque()
        self._busy: set[Address] = set()
        self._wake = asyncio.Event()
        self.walks = 0

    def request(self, since: int, wallets: Iterable[Address]) -> None:
        """Read `wallets` from `since` (venue seconds, inclusive) to now, in this order."""
        for wallet in wallets:
            self._attempts[wallet] = 0
            self._enqueue(wallet, since)
        self._wake.set()

    def _enqueue(self, wallet: Address, since: int) -> None:
        before = self._since.get(wallet)
        if before is None:
            self._since[wallet] = since
            self._order.append(wallet)
        else:
            self._since[wallet] = min(before, since)

    def _retry(self, wallet: Address, since: int) -> None:
        if wallet in self._attempts:  # not forgotten (unwatched) meanwhile
            self._enqueue(wallet, since)
            self._wake.set()

    def prioritize(self, wallet: Address) -> None:
        if wallet in self._since:
            self._urgent.append(wallet)
            self._wake.set()

    def forget(self, wallets: Iterable[Address]) -> None:
        for wallet in wallets:
            self._since.pop(wallet, None)
            self._attempts.pop(wallet, None)

    def holds(self, wallet: str) -> bool:
        """Is this wallet's gap still unread, with no attempt finished yet?"""
        pending = wallet in self._since or wallet in self._busy
        return pending and self._attempts.get(Address(wallet), 0) == 0

    @property
    def pending(self) -> int:
        return len(self._since) + len(self._busy)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(self.concurrency):
                group.create_task(self._worker())

    async def _next(self) -> Address:
        while True:
            for queue in (self._urgent, self._order):
                while queue:
                    wallet = queue.popleft()
                    if wallet in self._since and wallet not in self._busy:
                        return wallet
            self._wake.clear()
            await self._wake.wait()

    async def _worker(self) -> None:
        while True:
            wallet = await self._next()
            since = self._since.pop(wallet)
            self._busy.add(wallet)
            try:
                succeeded = await self._walk(wallet, since)
            finally:
                self._busy.discard(wallet)
            attempts = self._attempts.get(wallet, 0) + 1
            self._attempts[wallet] = attempts
            if not succeeded and attempts < _MAX_ATTEMPTS:
                asyncio.get_running_loop().call_later(
                    _RETRY_S * attempts, self._retry, wallet, since
                )
            elif not succeeded:
                log.error("backfill gave up; the poll feed must cover the gap", wallet=wallet)
            if self.on_done is not None:
                await self.on_done(wallet)
            if not self._since and not self._busy:
                self.health.set(FeedState.READY, "connected; gap backfilled")

    async def _walk(self, wallet: Address, since: int) -> bool:
        start = since
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
                if not walk.truncated:
                    return True
                start = next_start(walk, start, wallet)
        except VenueError as error:
            self.health.set(
                FeedState.DEGRADED,
                f"backfill of {wallet} failed ({error}); retrying",
            )
            return False
        except Exception:  # a bug must not stop the other wallets' backfill
            log.exception("backfill failed unexpectedly", wallet=wallet)
            return False

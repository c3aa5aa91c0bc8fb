"""Poll feed: each watched wallet's Data API activity, within a share of the rate budget.

**Who is polled next.** Every wallet has a due time; the scheduler always takes the most
overdue one (earliest deadline first) and starts at most `rate` walks per second, where
`rate = feeds.poll.budget_share x` the family's budget (the venue limiter still enforces
the hard cap for every caller). A wallet that just traded is due again after
`min_interval_s`; each empty poll doubles its interval up to `max_interval_s`. Under
overload every wallet's lateness grows by the same amount, so none starves, and with N
wallets nothing can do better than one poll per wallet every N / rate seconds. Backing
off never goes beyond that period either: a budget that could poll every wallet every
second is spent doing so, and idle wallets only wait longer when the budget is short. A fill any
feed hands out makes its wallet active again (`note_activity`), so the poller quickly
re-reads the whole transaction (the stream can only report one of identical fills).

**Windows.** A poll reads from `cursor - overlap_s` (inclusive) with no end. The cursor is
the newest timestamp of a fill the poller has *read* (never "now"), so a stale or cached
page, which simply lacks the newest rows, cannot move it past anything unseen. The start
also steps back one extra second per poll (cycling over 16), so two polls of a wallet in a
row never send the same URL and a CDN-cached first page is not served again. A new wallet
is read from `lookback_s` before now. The cursor is saved with the fills it covers.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import structlog

from polytail.config.schema import PollFeedSettings
from polytail.domain.clock import Clock
from polytail.domain.fills import FeedSource, LeaderFill
from polytail.domain.ids import Address
from polytail.feeds.clock import WallClock
from polytail.feeds.journal import Cursor
from polytail.feeds.merge import FillMerger
from polytail.feeds.observe import FeedObserver, FeedState, Health, NullObserver
from polytail.feeds.walk import ActivityApi, newest, next_start
from polytail.feeds.watchlist import WatchChange, WatchList
from polytail.venue.errors import VenueError

log = structlog.get_logger("polytail.feeds")

NAME = "poll"
_URL_CYCLE = 16
_DUE_SLACK_S = 0.001


@dataclass(slots=True)
class _Wallet:
    cursor: int | None
    interval: float
    due: float
    polls: int = 0
    busy: bool = False
    failing: bool = False
    resume_at: int | None = None  # where a walk cut by the offset cap continues


class PollFeed:
    def __init__(
        self,
        api: ActivityApi,
        merger: FillMerger,
        watchlist: WatchList,
        settings: PollFeedSettings,
        *,
        rate_per_s: float,
        concurrency: int = 16,
        clock: Clock | None = None,
        observer: FeedObserver | None = None,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"the poll rate must be positive, got {rate_per_s}")
        self.api = api
        self.merger = merger
        self.watchlist = watchlist
        self.settings = settings
        self.rate_per_s = rate_per_s
        self.clock: Clock = clock or WallClock()
        self.health = Health(NAME, observer or NullObserver(), self.clock)
        self._spacing = 1.0 / rate_per_s
        self._slots = asyncio.Semaphore(concurrency)
        self._wallets: dict[Address, _Wallet] = {}
        self._saved: dict[str, str] = {}
        self._heap: list[tuple[float, int, Address]] = []
        self._sequence = itertools.count()
        self._wakeup = asyncio.Event()
        self._next_slot = 0.0
        self.polls = 0
        self.pages = 0

    # --- scheduling ----------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _schedule(self, wallet: Address, state: _Wallet, due: float) -> None:
        state.due = due
        heapq.heappush(self._heap, (due, next(self._sequence), wallet))
        self._wakeup.set()

    def _add(self, wallets: Iterable[Address], due: float) -> None:
        for wallet in wallets:
            if wallet in self._wallets:
                continue
            saved = self._saved.get(wallet)
            state = _Wallet(
                cursor=int(saved) if saved else None,
                interval=self.settings.min_interval_s,
                due=due,
            )
            self._wallets[wallet] = state
            self._schedule(wallet, state, due)

    def _on_change(self, change: WatchChange) -> None:
        for wallet in change.removed:
            state = self._wallets.pop(wallet, None)
            if state is not None and state.cursor is not None:
                self._saved[wallet] = str(state.cursor)
        self._add(sorted(change.added), self._now())

    def note_activity(self, fill: LeaderFill) -> None:
        """A feed handed out a fill of this wallet: poll it again soon."""
        state = self._wallets.get(fill.wallet)
        if state is None or fill.source is FeedSource.POLL:
            return
        state.interval = self.settings.min_interval_s
        due = self._now() + state.interval
        if not state.busy and due < state.due:
            self._schedule(fill.wallet, state, due)

    async def _next_due(self) -> Address:
        while True:
            heap = self._heap
            while heap:
                due, _, wallet = heap[0]
                state = self._wallets.get(wallet)
                if state is not None and not state.busy and state.due == due:
                    break
                heapq.heappop(heap)  # removed, rescheduled or being polled
            if not heap:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            delay = heap[0][0] - self._now()
            if delay <= _DUE_SLACK_S:  # close enough: a timer cannot be finer than this
                return heapq.heappop(heap)[2]
            self._wakeup.clear()
            try:
                async with asyncio.timeout(delay):
                    await self._wakeup.wait()
            except TimeoutError:
                pass

    async def _pace(self) -> None:
        """Hold the request rate at `rate_per_s`: wait for the next free slot, take it."""
        now = self._now()
        start = max(self._next_slot, now)
        self._next_slot = start + self._spacing
        if start > now:
            await asyncio.sleep(start - now)

    def _charge(self, pages: int) -> None:
        """A walk's further pages were requests too: the next walks start that much later."""
        self._next_slot = max(self._next_slot, self._now()) + pages * self._spacing

    # --- running -------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll until cancelled. Failures of single polls are reported, never raised."""
        self._saved = await self.merger.cursors(NAME)
        self._add(sorted(self.watchlist), self._now())
        unsubscribe_watch = self.watchlist.subscribe(self._on_change)
        unsubscribe_merge = self.merger.listen(self.note_activity)
        self.health.set(FeedState.READY, f"polling {len(self._wallets)} wallets")
        try:
            async with asyncio.TaskGroup() as group:
                while True:
                    wallet = await self._next_due()
                    state = self._wallets.get(wallet)
                    if state is None:
                        continue
                    state.busy = True
                    await self._pace()
                    await self._slots.acquire()
                    group.create_task(self._poll_and_release(wallet, state))
        finally:
            unsubscribe_watch()
            unsubscribe_merge()

    async def _poll_and_release(self, wallet: Address, state: _Wallet) -> None:
        try:
            await self.poll(wallet, state)
        finally:
            self._slots.release()
            state.busy = False
            if self._wallets.get(wallet) is state:
                self._schedule(wallet, state, state.due)

    def window_start(self, state: _Wallet) -> int:
        if state.resume_at is not None:
            return state.resume_at
        if state.cursor is None:
            return max(1, self.clock.now_ms() // 1000 - self.settings.lookback_s)
        step_back = state.polls % _URL_CYCLE
        return max(1, state.cursor - self.settings.overlap_s - step_back)

    async def poll(self, wallet: Address, state: _Wallet) -> None:
        """One walk of one wallet; sets its next due time. Never raises a venue failure."""
        start = self.window_start(state)
        state.polls += 1
        self.polls += 1
        try:
            walk = await self.api.activity_fills(
                wallet,
                start=start,
                page_size=self.settings.page_size,
                source=FeedSource.POLL,
                received_ns=self.clock.monotonic_ns(),
            )
            if walk.pages > 1:
                self._charge(walk.pages - 1)
            self.pages += walk.pages
            for error in walk.batch.rejects:
                self.health.reject(FeedSource.POLL, error)
            latest = newest(walk)
            cursor = state.cursor if latest is None else max(latest, state.cursor or 0)
            saved = (
                Cursor(NAME, wallet, str(cursor))
                if cursor is not None and cursor != state.cursor
                else None
            )
            outcome = await self.merger.submit(walk.batch.fills, cursor=saved)
        except VenueError as error:
            self._failed(wallet, state, str(error))
            return
        except Exception as error:  # a bug must not stop the other wallets' polling
            log.exception("poll failed unexpectedly", wallet=wallet)
            self._failed(wallet, state, f"{type(error).__name__}: {error}")
            return
        fresh = latest is not None and (state.cursor is None or latest > state.cursor)
        state.cursor = cursor
        state.resume_at = next_start(walk, start, wallet) if walk.truncated else None
        if state.failing:
            state.failing = False
            if not any(other.failing for other in self._wallets.values()):
                self.health.set(FeedState.READY, f"polling {len(self._wallets)} wallets")
        if fresh or outcome.emitted:
            state.interval = self.settings.min_interval_s
        else:
            state.interval = min(
                self.settings.max_interval_s, self.fair_period_s(), state.interval * 2
            )
        state.due = self._now() + (0.0 if walk.truncated else state.interval)

    def _failed(self, wallet: Address, state: _Wallet, reason: str) -> None:
        state.failing = True
        self.health.set(
            FeedState.DEGRADED,
            f"polling {wallet} failed ({reason}); retrying, its cursor has not moved",
        )
        state.interval = min(self.settings.max_interval_s, state.interval * 2)
        state.due = self._now() + state.interval

    def fair_period_s(self) -> float:
        """How often every wallet could be polled on the whole budget: N / rate, but not
        more often than `min_interval_s`. An idle wallet never waits longer than this, so
        a budget that could poll everyone every second is used to do so."""
        return max(self.settings.min_interval_s, len(self._wallets) / self.rate_per_s)


def poll_rate(requests: float, window_s: float, budget_share: float) -> float:
    """Walks per second the poller may start: its share of the family's budget."""
    rate = budget_share * requests / window_s
    if not math.isfinite(rate) or rate <= 0:
        raise ValueError(f"no poll budget: {budget_share} x {requests} / {window_s} s")
    return rate

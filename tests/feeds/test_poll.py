"""The poll scheduler: its share of the budget, fair, active wallets first, nothing skipped.

Runs on virtual loop time (looptime) against an in-process Data API, so rates and
intervals are checked exactly and the suite stays fast.
"""

from __future__ import annotations

import asyncio
import itertools
from bisect import bisect_right
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from polytail.config.schema import PollFeedSettings
from polytail.domain.fills import LeaderFill
from polytail.feeds.journal import MemoryJournal
from polytail.feeds.merge import FillMerger
from polytail.feeds.poll import PollFeed, poll_rate
from polytail.feeds.watchlist import WatchList
from polytail.venue.errors import RateLimited, ServerError

from .factories import T0, Piece, tx, wallet
from .fake_api import FakeActivity, LoopClock

pytestmark = pytest.mark.looptime

UNITS = 1_000_000


def settings(**overrides: Any) -> PollFeedSettings:
    values: dict[str, Any] = {"min_interval_s": 1.0, "max_interval_s": 8.0, "lookback_s": 60}
    return PollFeedSettings.model_validate({**values, **overrides})


class Harness:
    def __init__(
        self, wallets: list[str], rate: float, journal: MemoryJournal | None = None, **kw: Any
    ):
        self.clock = LoopClock(T0)
        self.api = FakeActivity(self.clock)
        self.journal = journal or MemoryJournal()
        self.merger = FillMerger(self.journal, clock=self.clock, in_thread=False)
        self.watch = WatchList(wallets)
        self.feed = PollFeed(
            self.api, self.merger, self.watch, settings(**kw), rate_per_s=rate, clock=self.clock
        )
        self.handed: list[tuple[float, LeaderFill]] = []
        self.merger.listen(
            lambda fill: self.handed.append((asyncio.get_running_loop().time(), fill))
        )

    def now_s(self) -> int:
        return self.clock.now_ms() // 1000

    def trade(self, who: str, number: int, shares: int = 5) -> Piece:
        piece = Piece(tx(number), who, "BUY", shares * UNITS, timestamp=self.now_s())
        self.api.trade(piece)
        return piece

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Harness]:
        task = asyncio.create_task(self.feed.run())
        try:
            yield self
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def max_in_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    return max(
        (bisect_right(ordered, t + window - 1e-9) - i for i, t in enumerate(ordered)), default=0
    )


async def test_the_poller_keeps_to_its_rate_and_reaches_every_wallet() -> None:
    wallets = [wallet(n) for n in range(1, 201)]  # idle demand 200 / 8 s = 25/s > rate 10/s
    async with Harness(wallets, rate=10).running() as h:
        await asyncio.sleep(60)
    times = [call.at for call in h.api.calls]
    assert max_in_window(times, 1.0) <= 10  # never above its share of the budget
    assert len(times) >= 0.95 * 10 * 60  # and it uses all of it when there is work
    per_wallet = Counter(call.wallet for call in h.api.calls)
    assert set(per_wallet) == set(wallets) and min(per_wallet.values()) >= 2
    for who in wallets:  # nobody waits longer than N / rate (plus the idle interval)
        starts = [call.at for call in h.api.calls if call.wallet == who]
        assert max(b - a for a, b in itertools.pairwise(starts)) <= 200 / 10 + 8


async def test_under_budget_pressure_active_wallets_are_polled_more_often() -> None:
    active, idle = wallet(1), [wallet(n) for n in range(2, 101)]
    h = Harness([active, *idle], rate=10)  # everyone every 10 s would be the whole budget
    async with h.running():
        for second in range(60):
            h.trade(active, 100 + second)
            await asyncio.sleep(1)
    polls = Counter(call.wallet for call in h.api.calls)
    mean_idle = sum(polls[w] for w in idle) / len(idle)
    # deadlines slip by the same time for everyone under overload: the active wallet's
    # 1 s interval and the idle ones' 8 s both grow by it, so the advantage shrinks but stays
    assert polls[active] >= 2 * mean_idle and min(polls[w] for w in idle) >= 4
    assert len(h.handed) == 60


async def test_with_budget_to_spare_idle_wallets_are_not_left_waiting() -> None:
    wallets = [wallet(n) for n in range(1, 11)]
    h = Harness(wallets, rate=20)  # 10 wallets: the budget allows each every 0.5 s
    async with h.running():
        await asyncio.sleep(60)
    polls = Counter(call.wallet for call in h.api.calls)
    assert min(polls.values()) >= 50  # about every min_interval_s (1 s), not max (8 s)


async def test_a_fill_is_detected_within_the_polling_bound_under_overload() -> None:
    wallets = [wallet(n) for n in range(1, 101)]
    h = Harness(wallets, rate=10, max_interval_s=8.0)
    trades: dict[str, float] = {}
    async with h.running():
        await asyncio.sleep(20)
        for n, who in enumerate(wallets[::10]):
            piece = h.trade(who, 200 + n)
            trades[piece.tx] = asyncio.get_running_loop().time()
            await asyncio.sleep(0.7)
        await asyncio.sleep(30)
    delays = [at - trades[fill.tx_hash] for at, fill in h.handed if fill.tx_hash in trades]
    assert len(delays) == 10
    assert max(delays) <= 100 / 10 + 1  # N / rate: the best any fair schedule can do


async def test_stale_pages_and_late_indexing_never_move_the_cursor_past_a_fill() -> None:
    who = wallet(1)
    h = Harness([who], rate=20, overlap_s=5)
    h.api.lag_s = 3  # rows appear 3 s after their timestamp
    async with h.running():
        for n in range(30):
            h.trade(who, 300 + n)
            if n % 4 == 0:
                h.api.stale = 2  # the next two answers come from an old cached page
            await asyncio.sleep(0.5)
        await asyncio.sleep(40)
    assert sorted(fill.tx_hash for _, fill in h.handed) == sorted(tx(300 + n) for n in range(30))
    assert h.journal.cursors("poll")[who] == str(max(fill.timestamp for _, fill in h.handed))


async def test_a_walk_cut_by_the_offset_cap_continues_at_once_from_its_newest_second() -> None:
    who = wallet(1)
    h = Harness([who], rate=50, lookback_s=600)
    h.api.cap = 7
    for n in range(40):  # history: 40 fills over 40 seconds, before the poller starts
        h.api.trade(Piece(tx(400 + n), who, "BUY", UNITS, timestamp=T0 - 100 + n))
    async with h.running():
        await asyncio.sleep(2)
    assert len(h.handed) == 40
    starts = [call.start for call in h.api.calls[:7]]
    assert starts == sorted(starts) and len(set(starts)) == 7  # each walk resumes later


async def test_429_storms_and_5xx_lose_nothing_and_the_feed_recovers() -> None:
    who = wallet(1)
    h = Harness([who, wallet(2)], rate=20)
    failures: list[Callable[[], Any]] = [
        lambda: RateLimited("data.activity: HTTP 429", retry_after=1.0)
    ] * 10 + [lambda: ServerError("data.activity: HTTP 503")] * 3
    async with h.running():
        h.trade(who, 500)
        h.api.fail = list(failures)
        await asyncio.sleep(1)
        h.trade(who, 501)
        await asyncio.sleep(60)
        assert h.feed.health.state.value == "ready"
    assert sorted(fill.tx_hash for _, fill in h.handed) == [tx(500), tx(501)]


async def test_the_watch_list_changes_at_runtime_and_cursors_survive_a_restart() -> None:
    first, second = wallet(1), wallet(2)
    journal = MemoryJournal()
    h = Harness([first], rate=20, journal=journal)
    h.trade(second, 600)  # before it is watched, within the lookback: read on first poll
    async with h.running():
        await asyncio.sleep(3)
        assert {fill.wallet for _, fill in h.handed} == set()
        h.watch.update([first, second])
        await asyncio.sleep(3)
        assert [fill.tx_hash for _, fill in h.handed] == [tx(600)]
        h.watch.update([second])
        polled = len(h.api.calls)
        h.trade(first, 601)
        await asyncio.sleep(10)
        assert all(call.wallet == second for call in h.api.calls[polled + 1 :])
    restarted = Harness([first, second], rate=20, journal=journal)
    restarted.api = h.api
    restarted.feed.api = h.api
    async with restarted.running():
        await asyncio.sleep(5)
    # first's cursor was never advanced past 601's second: it is read now; 600 is not again
    assert [fill.tx_hash for _, fill in restarted.handed] == [tx(601)]


def test_the_poll_rate_is_the_configured_share_of_the_budget() -> None:
    assert poll_rate(900, 10, 0.5) == pytest.approx(45)
    with pytest.raises(ValueError, match="no poll budget"):
        poll_rate(0, 10, 0.5)

"""Backfill: read until the expected transaction is listed, holding the wallet meanwhile;
never hold a wallet through a failure or past the timeout."""

from __future__ import annotations

import asyncio

import pytest

from polytail.domain.ids import Address
from polytail.feeds.backfill import Backfiller
from polytail.feeds.journal import MemoryJournal
from polytail.feeds.merge import FillMerger
from polytail.feeds.observe import Health, NullObserver
from polytail.venue.errors import ServerError

from .factories import T0, Piece, tx, wallet
from .fake_api import FakeActivity, LoopClock

pytestmark = pytest.mark.looptime

LEADER = Address(wallet(1))


class Setup:
    def __init__(self, lag_s: float = 0.0, timeout_s: float = 30.0) -> None:
        self.clock = LoopClock(T0)
        self.api = FakeActivity(self.clock, lag_s=lag_s)
        self.merger = FillMerger(MemoryJournal(), clock=self.clock, in_thread=False)
        self.backfiller = Backfiller(
            self.api,
            self.merger,
            health=Health("stream", NullObserver(), self.clock),
            clock=self.clock,
            expect_timeout_s=timeout_s,
        )
        self.released: list[tuple[float, str]] = []

        async def done(wallet: Address) -> None:
            self.released.append((asyncio.get_running_loop().time(), wallet))

        self.backfiller.on_done = done


async def test_a_wallet_is_held_until_the_expected_transaction_is_listed() -> None:
    setup = Setup(lag_s=3)
    task = asyncio.create_task(setup.backfiller.run())
    burst = [Piece(tx(1), LEADER, "BUY", 5_000_000, timestamp=T0)] * 3
    for piece in burst:
        setup.api.trade(piece)
    setup.backfiller.request(T0, [LEADER], expect=tx(1))
    await asyncio.sleep(1)
    assert setup.backfiller.holds(LEADER, T0 + 1) and not setup.backfiller.holds(LEADER, T0)
    await asyncio.sleep(5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert len(setup.released) == 1 and 3 <= setup.released[0][0] < 4.5
    assert setup.merger.pending() == 3 and not setup.backfiller.holds(LEADER, T0 + 1)


async def test_a_transaction_never_listed_releases_the_wallet_after_the_timeout() -> None:
    setup = Setup(timeout_s=5)
    task = asyncio.create_task(setup.backfiller.run())
    setup.backfiller.request(T0, [LEADER], expect=tx(2))
    await asyncio.sleep(10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert len(setup.released) == 1 and 5 <= setup.released[0][0] < 6.5


async def test_a_failed_read_releases_at_once_and_is_retried_in_the_background() -> None:
    setup = Setup()
    setup.api.fail = [lambda: ServerError("data.activity: HTTP 503")]
    setup.api.trade(Piece(tx(3), LEADER, "SELL", 1_000_000, timestamp=T0))
    task = asyncio.create_task(setup.backfiller.run())
    setup.backfiller.request(T0 - 10, [LEADER])
    await asyncio.sleep(0.5)
    assert [wallet for _, wallet in setup.released] == [LEADER]
    assert not setup.backfiller.holds(LEADER, T0)
    await asyncio.sleep(10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert setup.merger.pending() == 1 and setup.backfiller.pending == 0

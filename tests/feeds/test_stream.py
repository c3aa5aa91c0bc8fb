"""The stream feed: order within its window, gaps backfilled, identical fills completed."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from pydantic import ValidationError
from websockets.asyncio.server import ServerConnection

from polytail.config.schema import StreamFeedSettings
from polytail.domain.fills import FeedSource, LeaderFill
from polytail.feeds.journal import MemoryJournal
from polytail.feeds.merge import FillMerger
from polytail.feeds.observe import FeedState
from polytail.feeds.stream import StreamFeed
from polytail.feeds.watchlist import WatchList
from polytail.sim.server import RunningSim
from polytail.store import Store
from polytail.venue.errors import MalformedRow
from polytail.venue.rtds import RtdsClient
from polytail.venue.ws import Backoff
from tests.venue.loopback import ws_server

from .factories import Piece, api_row, tx, wallet
from .rig import feed_settings, running, token_of, until

UNITS = 1_000_000


class Recorder:
    """A FeedObserver that keeps what it is told."""

    def __init__(self) -> None:
        self.states: list[tuple[str, FeedState, str]] = []
        self.rejects: list[MalformedRow] = []
        self.detected: list[LeaderFill] = []

    def fill_sighted(self, source: FeedSource, duplicate: bool, at_ms: int) -> None:
        return

    def fill_detected(self, fill: LeaderFill, at_ms: int) -> None:
        self.detected.append(fill)

    def feed_status(self, component: str, state: FeedState, detail: str, at_ms: int) -> None:
        self.states.append((component, state, detail))

    def row_rejected(self, source: FeedSource, error: MalformedRow, at_ms: int) -> None:
        self.rejects.append(error)


def frame(piece: Piece) -> str:
    payload = {k: v for k, v in api_row(piece).items() if k not in ("type", "usdcSize")}
    return orjson.dumps({"topic": "activity", "type": "trades", "payload": payload}).decode()


async def test_frames_swapped_within_the_window_are_handed_out_in_venue_order() -> None:
    leader = wallet(1)
    earlier = Piece(tx(1), leader, "BUY", 10 * UNITS, timestamp=1_000)
    later = Piece(tx(2), leader, "SELL", 10 * UNITS, timestamp=1_001)
    sent = asyncio.Event()

    async def venue(connection: ServerConnection) -> None:
        await connection.recv()  # the subscription
        for text in (frame(later), frame(earlier), frame(later), "{not json"):
            await connection.send(text)  # swapped, repeated, and one broken frame
        sent.set()
        await connection.wait_closed()

    recorder = Recorder()
    merger = FillMerger(MemoryJournal(), in_thread=False, observer=recorder)
    async with ws_server(venue) as url:
        rtds = RtdsClient(url, stale_after_s=5, backoff=Backoff(min_s=0.01, max_s=0.02))
        settings = StreamFeedSettings(reorder_window_s=0.2, backfill=False)
        feed = StreamFeed(rtds, merger, WatchList([leader]), settings, observer=recorder)
        task = asyncio.create_task(feed.run())
        await until(lambda: merger.pending() == 2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await feed.close()
    handed = [merger.get_nowait(), merger.get_nowait()]
    assert [f.tx_hash for f in handed] == [tx(1), tx(2)]
    assert [e.field for e in recorder.rejects] == ["frame"]


async def test_a_dropped_stream_is_backfilled_and_later_fills_wait_for_the_gap(
    sim_quiet: RunningSim, db: Store
) -> None:
    sim = sim_quiet
    leader = "0x" + "4f" * 20
    token = token_of(sim, "btc-above-150k-dec-31")
    settings = feed_settings(poll=False)
    async with running(sim, db, [leader], settings) as rig:
        stream = rig.feeds.stream
        assert stream is not None
        await rig.admin("trade", leader, token, "BUY", shares="10", price="0.45")
        await until(lambda: len(rig.handed) == 1)
        await rig.admin("drop", "rtds")
        await rig.admin("advance", 1)
        await rig.admin("trade", leader, token, "BUY", shares="11", price="0.45")  # in the gap
        await rig.admin("trade", leader, token, "BUY", shares="12", price="0.45")
        await until(lambda: stream.stats.reconnects == 1)
        await rig.subscribed()
        await rig.admin("advance", 1)
        await rig.admin("trade", leader, token, "SELL", shares="13", price="0.30")  # after
        await rig.delivered()
        await rig.settled()
    assert [(f.side.value, f.size.units // UNITS) for f in rig.handed] == [
        ("BUY", 10),
        ("BUY", 11),
        ("BUY", 12),
        ("SELL", 13),
    ]
    assert [f.source for f in rig.handed[1:3]] == [FeedSource.BACKFILL] * 2


async def test_a_burst_the_stream_sees_as_repeats_is_completed_before_what_follows(
    sim_quiet: RunningSim, db: Store
) -> None:
    sim = sim_quiet
    leader = "0x" + "8f" * 20
    token = token_of(sim, "fed-cuts-in-december")
    async with running(sim, db, [leader], feed_settings(poll=False)) as rig:
        stream = rig.feeds.stream
        assert stream is not None
        await rig.admin("burst", leader, token, "BUY", count=200, shares_each="5", price="0.70")
        await rig.admin("advance", 1)
        await rig.admin("trade", leader, token, "SELL", shares="500", price="0.50")
        await rig.delivered()
        await rig.settled()
    assert len(rig.handed) == 201 and rig.handed[-1].side.value == "SELL"
    # the stream can report one of the identical fills; a whole-transaction read the rest
    assert sum(f.source is FeedSource.BACKFILL for f in rig.handed) >= 199, stream.stats
    assert stream.stats.verified >= 1


async def test_after_a_restart_the_stream_reads_what_it_missed_while_down(
    sim_quiet: RunningSim, db: Store
) -> None:
    sim = sim_quiet
    leader = "0x" + "9f" * 20
    token = token_of(sim, "best-picture-the-long-road")
    settings = feed_settings(poll=False)
    async with running(sim, db, [leader], settings) as first:
        await first.admin("trade", leader, token, "BUY", shares="10", price="0.55")
        await until(lambda: len(first.handed) == 1)
    await first.admin("trade", leader, token, "BUY", shares="20", price="0.55")  # while down
    async with running(sim, db, [leader], settings) as second:
        await until(lambda: len(second.handed) == 1)
        await second.settled()
    assert [f.size.units for f in second.handed] == [20 * UNITS]
    assert second.handed[0].source is FeedSource.BACKFILL


def test_stream_settings_validate_the_reorder_window() -> None:
    with pytest.raises(ValidationError, match="reorder_window_s"):
        StreamFeedSettings(reorder_window_s=-1)
    assert StreamFeedSettings().reorder_window_s == 0.02

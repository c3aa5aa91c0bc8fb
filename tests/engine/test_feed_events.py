"""The feeds' reports reach the engine's bus as engine events."""

from __future__ import annotations

from polytail.domain.fills import FeedSource
from polytail.engine.events import (
    ComponentState,
    ComponentStatus,
    EngineError,
    Event,
    EventBus,
    FillDetected,
    FillSighted,
)
from polytail.engine.feed_events import BusObserver
from polytail.feeds.journal import MemoryJournal
from polytail.feeds.merge import FillMerger
from polytail.feeds.observe import FeedState, Health
from polytail.venue.errors import MalformedRow
from tests.feeds.factories import Piece, api_fills, stream_fill, tx, wallet


async def test_sightings_detections_status_and_rejects_are_published() -> None:
    bus = EventBus()
    events: list[Event] = []
    bus.listen(events.append)
    observer = BusObserver(bus)
    merger = FillMerger(MemoryJournal(), observer=observer, in_thread=False)
    piece = Piece(tx(1), wallet(1), "BUY", 5_000_000)
    await merger.submit([stream_fill(piece)])
    await merger.submit(api_fills([piece]))
    health = Health("poll", observer, merger.clock)
    health.set(FeedState.DEGRADED, "rate limited")
    health.set(FeedState.DEGRADED, "rate limited")  # reported once
    health.reject(FeedSource.POLL, MalformedRow("data-api activity", "price", "is not a number"))
    detected = [e for e in events if isinstance(e, FillDetected)]
    sighted = [e for e in events if isinstance(e, FillSighted)]
    assert len(detected) == 1 and detected[0].fill.fill_id == merger.get_nowait().fill_id
    assert detected[0].detection_ms is not None
    assert [(s.source, s.duplicate) for s in sighted] == [
        (FeedSource.STREAM, False),
        (FeedSource.POLL, True),
    ]
    statuses = [e for e in events if isinstance(e, ComponentStatus)]
    assert [(s.component, s.state) for s in statuses] == [("feed.poll", ComponentState.DEGRADED)]
    (error,) = [e for e in events if isinstance(e, EngineError)]
    assert error.component == "feed.poll" and "'price'" in error.message

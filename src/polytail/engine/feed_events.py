"""The feeds' reports as engine events: the adapter from `FeedObserver` to the `EventBus`.

The feeds sit below the engine and cannot import its events; they call a `FeedObserver`,
and this adapter publishes what they say.
"""

from __future__ import annotations

from polytail.domain.fills import FeedSource, LeaderFill
from polytail.engine.events import (
    ComponentState,
    ComponentStatus,
    EngineError,
    EventBus,
    FillDetected,
    FillSighted,
)
from polytail.feeds.observe import FeedState
from polytail.venue.errors import MalformedRow


class BusObserver:
    """A `FeedObserver` that publishes on an `EventBus` (feed names become `feed.<name>`)."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def fill_sighted(self, source: FeedSource, duplicate: bool, at_ms: int) -> None:
        self.bus.publish(FillSighted(source=source, duplicate=duplicate, at_ms=at_ms))

    def fill_detected(self, fill: LeaderFill, at_ms: int) -> None:
        self.bus.publish(
            FillDetected(fill=fill, at_ms=at_ms, detection_ms=fill.stamps.detection_ms)
        )

    def feed_status(self, component: str, state: FeedState, detail: str, at_ms: int) -> None:
        self.bus.publish(
            ComponentStatus(
                component=f"feed.{component}",
                state=ComponentState(state.value),
                detail=detail,
                at_ms=at_ms,
            )
        )

    def row_rejected(self, source: FeedSource, error: MalformedRow, at_ms: int) -> None:
        self.bus.publish(
            EngineError(component=f"feed.{source.value}", message=str(error), at_ms=at_ms)
        )

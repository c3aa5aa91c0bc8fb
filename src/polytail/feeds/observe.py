"""What the feeds tell the outside world: sightings, detections, health, rejected rows.

The feeds sit below the engine, so they cannot publish engine events themselves. They
report to a `FeedObserver`; the engine's adapter (`polytail.engine.feed_events`) turns the
calls into `FillSighted`, `FillDetected`, `ComponentStatus` and `EngineError` on its bus.
Every observer method must be cheap: it runs on the feeds' hot path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import structlog

from polytail.domain.clock import Clock
from polytail.domain.fills import FeedSource, LeaderFill
from polytail.venue.errors import MalformedRow

log = structlog.get_logger("polytail.feeds")


class FeedState(StrEnum):
    """Health of one feed; the same values as `engine.events.ComponentState`."""

    STARTING = "starting"
    READY = "ready"
    DEGRADED = "degraded"  # working, but e.g. rate limited or backfilling a gap
    DOWN = "down"


class FeedObserver(Protocol):
    def fill_sighted(self, source: FeedSource, duplicate: bool, at_ms: int) -> None:
        """Any sighting, including those the merger absorbed (feed coverage metrics)."""

    def fill_detected(self, fill: LeaderFill, at_ms: int) -> None:
        """A fill passed the merger: its first sighting. `fill.stamps` has the latencies."""

    def feed_status(self, component: str, state: FeedState, detail: str, at_ms: int) -> None:
        """A feed's health changed."""

    def row_rejected(self, source: FeedSource, error: MalformedRow, at_ms: int) -> None:
        """A row could not be normalised; it is kept in `error.row` for inspection."""


class NullObserver:
    """Listens to nothing (tests, the CLI)."""

    def fill_sighted(self, source: FeedSource, duplicate: bool, at_ms: int) -> None:
        return

    def fill_detected(self, fill: LeaderFill, at_ms: int) -> None:
        return

    def feed_status(self, component: str, state: FeedState, detail: str, at_ms: int) -> None:
        return

    def row_rejected(self, source: FeedSource, error: MalformedRow, at_ms: int) -> None:
        return


@dataclass
class Health:
    """One feed's state: logs and reports a change once, not on every repetition."""

    component: str
    observer: FeedObserver
    clock: Clock
    state: FeedState = FeedState.STARTING
    detail: str = ""
    _reported: tuple[FeedState, str] | None = field(default=None, repr=False)

    def set(self, state: FeedState, detail: str = "") -> None:
        self.state, self.detail = state, detail
        if self._reported == (state, detail):
            return
        self._reported = (state, detail)
        level = log.warning if state in (FeedState.DEGRADED, FeedState.DOWN) else log.info
        level("feed status", feed=self.component, state=state.value, detail=detail)
        self.observer.feed_status(self.component, state, detail, self.clock.now_ms())

    def reject(self, source: FeedSource, error: MalformedRow) -> None:
        log.warning(
            "row rejected",
            feed=self.component,
            problem=str(error),
            row=str(error.row)[:300],
        )
        self.observer.row_rejected(source, error, self.clock.now_ms())

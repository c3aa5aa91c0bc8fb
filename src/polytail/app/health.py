"""Readiness: is every component the engine needs up?

`/ready`, `polytail status` and the dashboard all answer from one `HealthTracker`, fed by
the `ComponentStatus` events the feeds, the broker and reconciliation publish. It is a
synchronous bus listener: one dict assignment per event.
"""

from __future__ import annotations

from collections.abc import Iterable

from polytail.app.services import ComponentHealth, Readiness
from polytail.config.schema import PolytailConfig
from polytail.domain.fills import FeedSource
from polytail.engine.events import Component, ComponentState, ComponentStatus, Event


def required_components(config: PolytailConfig) -> tuple[str, ...]:
    """What readiness waits for: each enabled feed, the broker, startup reconciliation."""
    feeds = config.feeds
    enabled = (
        (FeedSource.STREAM, feeds.stream.enabled),
        (FeedSource.POLL, feeds.poll.enabled),
        (FeedSource.CHAIN, feeds.chain.enabled),
    )
    names = [Component.feed(source) for source, on in enabled if on]
    return (*names, Component.BROKER, Component.RECONCILIATION)


class HealthTracker:
    """The last state each component reported; ready when all required ones are up."""

    def __init__(self, required: Iterable[str]) -> None:
        self._required = tuple(dict.fromkeys(required))
        self._last: dict[str, ComponentStatus] = {}

    def on_event(self, event: Event) -> None:
        """Bus listener: `bus.listen(tracker.on_event)`."""
        if type(event) is ComponentStatus:
            self._last[event.component] = event

    def readiness(self) -> Readiness:
        components = [self._health(name, required=True) for name in self._required]
        components += [
            self._health(name, required=False)
            for name in sorted(self._last)
            if name not in self._required
        ]
        ready = all(c.is_up for c in components if c.required)
        return Readiness(ready=ready, components=tuple(components))

    def _health(self, name: str, *, required: bool) -> ComponentHealth:
        status = self._last.get(name)
        if status is None:
            return ComponentHealth(
                name, ComponentState.STARTING, "not reported yet", None, required
            )
        return ComponentHealth(name, status.state, status.detail, status.at_ms, required)

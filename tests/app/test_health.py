"""Readiness: every enabled feed, the broker and reconciliation must be up."""

from __future__ import annotations

from polytail.app.health import HealthTracker, required_components
from polytail.config.schema import PolytailConfig
from polytail.domain.fills import FeedSource
from polytail.engine.events import Component, ComponentState, ComponentStatus, EventBus


def report(bus: EventBus, component: str, state: ComponentState, at: int = 1) -> None:
    bus.publish(ComponentStatus(component, state, f"{component} is {state}", at_ms=at))


def test_required_components_follow_the_enabled_feeds() -> None:
    default = required_components(PolytailConfig())
    assert default == ("feed.stream", "feed.poll", "broker", "reconciliation")
    chain_only = PolytailConfig.model_validate(
        {
            "feeds": {
                "stream": {"enabled": False},
                "poll": {"enabled": False},
                "chain": {"enabled": True},
            }
        }
    )
    assert required_components(chain_only) == ("feed.chain", "broker", "reconciliation")
    assert Component.feed(FeedSource.POLL) == "feed.poll"


def test_not_ready_until_every_required_component_is_up() -> None:
    bus = EventBus()
    tracker = HealthTracker(["feed.poll", "broker", "reconciliation"])
    bus.listen(tracker.on_event)
    readiness = tracker.readiness()
    assert not readiness.ready
    assert readiness.waiting_for == ("feed.poll", "broker", "reconciliation")
    assert readiness.components[0].detail == "not reported yet"

    report(bus, "feed.poll", ComponentState.READY)
    report(bus, "broker", ComponentState.READY)
    assert tracker.readiness().waiting_for == ("reconciliation",)
    report(bus, "reconciliation", ComponentState.READY)
    assert tracker.readiness().ready


def test_degraded_counts_as_ready_but_down_does_not() -> None:
    bus = EventBus()
    tracker = HealthTracker(["feed.stream", "broker"])
    bus.listen(tracker.on_event)
    report(bus, "broker", ComponentState.READY)
    report(bus, "feed.stream", ComponentState.DEGRADED)
    readiness = tracker.readiness()
    assert readiness.ready
    assert readiness.components[0].state is ComponentState.DEGRADED  # shown as it is
    report(bus, "feed.stream", ComponentState.DOWN, at=2)
    assert tracker.readiness().waiting_for == ("feed.stream",)


def test_optional_components_are_shown_but_do_not_gate_readiness() -> None:
    bus = EventBus()
    tracker = HealthTracker(["broker"])
    bus.listen(tracker.on_event)
    report(bus, "broker", ComponentState.READY)
    report(bus, "store", ComponentState.DOWN)
    readiness = tracker.readiness()
    assert readiness.ready
    store = readiness.components[-1]
    assert (store.component, store.required, store.state) == ("store", False, ComponentState.DOWN)

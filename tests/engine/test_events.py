"""The event bus: every consumer sees every event; none can stall or break the engine."""

from __future__ import annotations

import asyncio

from polytail.domain.decisions import ReasonCode
from polytail.engine.events import (
    BreakerScope,
    BreakerTripped,
    ComponentState,
    ComponentStatus,
    EngineError,
    Event,
    EventBus,
)


def status(n: int) -> ComponentStatus:
    return ComponentStatus("feed.poll", ComponentState.READY, f"tick {n}", at_ms=n)


async def test_listeners_and_subscribers_see_every_event_in_order() -> None:
    bus = EventBus()
    seen: list[Event] = []
    bus.listen(seen.append)
    subscription = bus.subscribe("test")
    for n in range(3):
        bus.publish(status(n))
    assert seen == [status(0), status(1), status(2)]
    assert [await subscription.get() for _ in range(3)] == seen


async def test_a_failing_listener_does_not_stop_the_others() -> None:
    bus = EventBus()
    seen: list[Event] = []

    def broken(_: Event) -> None:
        raise RuntimeError("consumer bug")

    bus.listen(broken)
    bus.listen(seen.append)
    event = EngineError("broker", "boom", at_ms=1)
    bus.publish(event)
    assert seen == [event]


async def test_a_slow_subscriber_loses_the_oldest_events_not_the_engine() -> None:
    bus = EventBus()
    subscription = bus.subscribe("slow", maxsize=2)
    for n in range(5):
        bus.publish(status(n))  # never blocks
    assert subscription.dropped == 3
    assert [await subscription.get() for _ in range(2)] == [status(3), status(4)]


async def test_unsubscribing_stops_delivery() -> None:
    bus = EventBus()
    seen: list[Event] = []
    stop = bus.listen(seen.append)
    subscription = bus.subscribe("gone")
    stop()
    bus.unsubscribe(subscription)
    bus.publish(
        BreakerTripped(BreakerScope.GLOBAL, ReasonCode.RISK_DAILY_LOSS, "lost 100", at_ms=1)
    )
    assert seen == [] and subscription.queue.empty()


async def test_a_consumer_can_drain_with_join_even_after_drops() -> None:
    bus = EventBus()
    subscription = bus.subscribe("drain", maxsize=2)
    for n in range(5):
        bus.publish(status(n))
    for _ in range(2):
        await subscription.get()
        subscription.queue.task_done()
    await asyncio.wait_for(subscription.queue.join(), 1)  # dropped events do not block it

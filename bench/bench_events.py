"""What the operator surfaces cost the hot path: publishing engine events.

Every fill the engine copies publishes about seven events (sighted, detected, decision,
three order updates, trade booked). Each publish calls the metrics listener synchronously
and puts the event on the notifier's queue; the notifier renders and routes off the hot
path. Measured: publish throughput and latency with nothing attached, with the metrics
listener, and with metrics plus a running notifier; then how fast the notifier digests the
stream (rendering a message per finished copy).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Mapping

from harness import Figure, latency_figures, max_rss_mib, record  # puts tests/ on the path

# isort: split
from tests.support.samples import ACCOUNT, ALICE, T0, YES, copy_decision, fill, order_for
from tests.support.service import InMemoryService

from polytail.app.health import HealthTracker
from polytail.config.schema import Mode
from polytail.domain.fills import FeedSource, LeaderFill, Side
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.orders import OrderState
from polytail.engine.events import (
    DecisionMade,
    Event,
    EventBus,
    FillDetected,
    FillSighted,
    OrderUpdated,
    TradeBooked,
)
from polytail.notify.notices import Message, NoticeKind
from polytail.notify.notifier import Notifier
from polytail.notify.render import Renderer
from polytail.web.metrics import EngineMetrics

FILLS = 3_000  # -> 21,000 events per pass


def events_of(leader_fill: LeaderFill) -> list[Event]:
    decision = copy_decision(leader_fill)
    pending = order_for(decision)
    sent = pending.to(OrderState.SENT, at_ms=T0)
    done = sent.to(
        OrderState.MATCHED, at_ms=T0, filled=pending.intent.size, filled_notional=Usdc.parse("10")
    )
    trade = TradeBooked(
        ACCOUNT, pending.client_id, f"t-{leader_fill.fill_id}", YES, Side.BUY,
        Shares.parse("20"), Price.parse("0.5"), Usdc.parse("10"), Usdc(0), ALICE, T0,
    )  # fmt: skip
    return [
        FillSighted(FeedSource.STREAM, False, at_ms=T0),
        FillDetected(leader_fill, at_ms=T0, detection_ms=850),
        DecisionMade(decision),
        OrderUpdated(pending, previous=None),
        OrderUpdated(sent, previous=OrderState.PENDING),
        OrderUpdated(done, previous=OrderState.SENT),
        trade,
    ]


class NullChannel:
    name = "null"
    kinds = frozenset(NoticeKind)

    def __init__(self, expected: int) -> None:
        self.messages = 0
        self.expected = expected
        self.all_in = asyncio.Event()

    def offer(self, message: Message) -> None:
        self.messages += 1
        if self.messages == self.expected:
            self.all_in.set()

    async def start(self) -> None:
        pass

    async def stop(self, flush_timeout_s: float = 2.0) -> None:
        pass

    def snapshot(self) -> Mapping[str, float]:
        return {}


def publish_samples(bus: EventBus, events: list[Event]) -> list[float]:
    samples = []
    publish = bus.publish
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for event in events:
            start = clock()
            publish(event)
            samples.append(clock() - start)
    finally:
        gc.enable()
    return samples


def rate_of(samples: list[float]) -> int:
    return round(len(samples) / (sum(samples) / 1e9))


async def main() -> None:
    events = [event for n in range(FILLS) for event in events_of(fill(n + 1))]

    bare = publish_samples(EventBus(), events)

    with_metrics_bus = EventBus()
    EngineMetrics().attach(with_metrics_bus)
    with_metrics = publish_samples(with_metrics_bus, events)

    bus = EventBus()
    EngineMetrics().attach(bus)
    service = InMemoryService(HealthTracker(["broker"]))
    channel = NullChannel(expected=FILLS)
    notifier = Notifier(
        bus=bus, service=service, channels=[channel], renderer=Renderer(Mode.PAPER),
        account=ACCOUNT, labels={ALICE: "alice"}, queue_size=len(events),
    )  # fmt: skip
    await notifier.start()
    full = publish_samples(bus, events)  # the notifier cannot run meanwhile: queued
    start = time.perf_counter()
    await channel.all_in.wait()
    drain_s = time.perf_counter() - start
    await notifier.stop()

    record(
        "events",
        [
            Figure("publish_bare_events_per_s", rate_of(bare), "events/s", "no consumer"),
            Figure("publish_metrics_events_per_s", rate_of(with_metrics), "events/s"),
            Figure(
                "publish_full_events_per_s", rate_of(full), "events/s", "metrics + notifier queue"
            ),
            *latency_figures("publish_bare", bare, "us"),
            *latency_figures("publish_metrics", with_metrics, "us"),
            *latency_figures("publish_full", full, "us"),
            Figure(
                "notifier_events_per_s",
                round(len(events) / drain_s),
                "events/s",
                "off the hot path; renders one message per finished copy",
            ),
            Figure("notifier_messages_per_s", round(FILLS / drain_s), "messages/s"),
            Figure("events_per_pass", len(events), "events"),
            Figure("max_rss", round(max_rss_mib(), 1), "MiB"),
        ],
    )


if __name__ == "__main__":
    asyncio.run(main())

"""Metrics count what the engine did, exactly, and never break the engine or a scrape."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from polytail.domain.decisions import ReasonCode
from polytail.domain.fills import FeedSource, Side
from polytail.domain.ids import AccountId
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.orders import TRANSITIONS, Order, OrderState
from polytail.engine.events import (
    BreakerScope,
    BreakerTripped,
    ComponentState,
    ComponentStatus,
    DecisionMade,
    EngineError,
    EventBus,
    FillDetected,
    FillSighted,
    OrderUpdated,
    TradeBooked,
)
from polytail.venue.stats import VenueStats
from polytail.web.metrics import EngineMetrics
from tests.support.prom import value
from tests.support.samples import ALICE, T0, YES, copy_decision, fill, order_for, skip_decision


def attached() -> tuple[EventBus, EngineMetrics]:
    bus = EventBus()
    metrics = EngineMetrics()
    metrics.attach(bus)
    return bus, metrics


def text(metrics: EngineMetrics) -> str:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return body.decode()


def test_sightings_are_counted_per_feed_including_duplicates() -> None:
    bus, metrics = attached()
    for source, duplicate in [
        (FeedSource.STREAM, False),
        (FeedSource.POLL, True),
        (FeedSource.POLL, True),
        (FeedSource.POLL, False),
    ]:
        bus.publish(FillSighted(source, duplicate, at_ms=T0))
    out = text(metrics)
    assert value(out, "polytail_fills_sighted_total", source="stream", duplicate="false") == 1
    assert value(out, "polytail_fills_sighted_total", source="poll", duplicate="true") == 2
    assert value(out, "polytail_fills_sighted_total", source="poll", duplicate="false") == 1


def test_detection_latency_is_a_histogram_per_feed() -> None:
    bus, metrics = attached()
    for n, latency in enumerate([300, 800, 4_000]):
        bus.publish(FillDetected(fill(n), at_ms=T0, detection_ms=latency))
    bus.publish(FillDetected(fill(9), at_ms=T0, detection_ms=None))  # imprecise venue time
    out = text(metrics)
    assert value(out, "polytail_fills_detected_total", source="stream") == 4
    assert value(out, "polytail_detection_latency_seconds_count", source="stream") == 3
    assert value(out, "polytail_detection_latency_seconds_sum", source="stream") == 5.1
    assert value(out, "polytail_detection_latency_seconds_bucket", source="stream", le="0.5") == 1
    assert value(out, "polytail_detection_latency_seconds_bucket", source="stream", le="1.0") == 2
    assert value(out, "polytail_detection_latency_seconds_bucket", source="stream", le="5.0") == 3


def test_decisions_are_counted_by_action_and_primary_reason() -> None:
    bus, metrics = attached()
    bus.publish(DecisionMade(copy_decision(fill(1), reasons=(ReasonCode.RISK_MAX_ORDER,))))
    bus.publish(DecisionMade(skip_decision(fill(2), ReasonCode.FILTER_PRICE_BAND)))
    bus.publish(DecisionMade(skip_decision(fill(3), ReasonCode.FILTER_PRICE_BAND)))
    out = text(metrics)
    assert value(out, "polytail_decisions_total", action="copy", reason="copied") == 1
    assert value(out, "polytail_decisions_total", action="skip", reason="filter_price_band") == 2


def test_trades_errors_and_breakers() -> None:
    bus, metrics = attached()
    decision = copy_decision(fill())
    order = order_for(decision)
    bus.publish(
        TradeBooked(
            AccountId("default"),
            order.client_id,
            "t1",
            YES,
            Side.BUY,
            Shares.parse("20"),
            Price.parse("0.52"),
            Usdc.parse("10.4"),
            Usdc.parse("0.1"),
            ALICE,
            T0,
        )
    )
    bus.publish(EngineError("feed.stream", "socket closed", at_ms=T0))
    trip = BreakerTripped(BreakerScope.LEADER, ReasonCode.RISK_LEADER_DAILY_LOSS, "-51", T0, ALICE)
    bus.publish(trip)
    out = text(metrics)
    assert value(out, "polytail_trades_booked_total", side="BUY") == 1
    assert value(out, "polytail_traded_notional_usdc_total", side="BUY") == 10.4
    assert value(out, "polytail_fees_paid_usdc_total") == 0.1
    assert value(out, "polytail_engine_errors_total", component="feed.stream", fatal="false") == 1
    labels = {"scope": "leader", "reason": "risk_leader_daily_loss"}
    assert value(out, "polytail_breaker_tripped", leader=ALICE, **labels) == 1
    assert value(out, "polytail_breaker_trips_total", **labels) == 1
    bus.publish(BreakerTripped(trip.scope, trip.reason, "new day", T0 + 1, ALICE, cleared=True))
    assert value(text(metrics), "polytail_breaker_tripped", leader=ALICE, **labels) == 0


def test_component_state_shows_the_current_state_only() -> None:
    bus, metrics = attached()
    bus.publish(ComponentStatus("broker", ComponentState.STARTING, "", at_ms=1))
    bus.publish(ComponentStatus("broker", ComponentState.DEGRADED, "slow", at_ms=2))
    out = text(metrics)
    assert value(out, "polytail_component_state", component="broker", state="degraded") == 1
    assert value(out, "polytail_component_state", component="broker", state="starting") == 0


open_paths = st.lists(st.sampled_from(list(OrderState)), max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(open_paths, min_size=1, max_size=8))
def test_the_orders_gauge_equals_the_orders_currently_in_each_open_state(
    paths: list[list[OrderState]],
) -> None:
    bus, metrics = attached()
    current: dict[str, OrderState] = {}
    transitions: Counter[tuple[str, str]] = Counter()
    for n, path in enumerate(paths):
        order: Order = order_for(copy_decision(fill(n + 1)))
        bus.publish(OrderUpdated(order, previous=None))
        transitions["new", "PENDING"] += 1
        for target in path:
            if target not in TRANSITIONS[order.state]:
                continue
            before = order.state
            order = order.to(target, at_ms=T0)
            bus.publish(OrderUpdated(order, previous=before))
            transitions[before.value, target.value] += 1
        current[order.client_id] = order.state
    out = text(metrics)
    for state in OrderState:
        expected = sum(1 for s in current.values() if s is state)
        if state.is_open:
            assert value(out, "polytail_orders", state=state.value) == expected
        else:
            assert value(out, "polytail_orders", state=state.value) is None
    for (previous, state), count in transitions.items():
        assert (
            value(out, "polytail_order_transitions_total", previous=previous, state=state) == count
        )


class CountingSource:
    def __init__(self) -> None:
        self.waits = 0

    def snapshot(self) -> dict[str, float]:
        return {
            "rate_limit_waits_total/clob.orders": self.waits,
            "breaker_open/data_api": 1,
            "bad key!": 3,
        }


def test_another_layers_counters_are_exported_live_on_each_scrape() -> None:
    _, metrics = attached()
    stats = CountingSource()
    metrics.add_stats("venue", stats)
    stats.waits = 3
    out = text(metrics)
    assert value(out, "polytail_venue_rate_limit_waits_total", family="clob.orders") == 3
    assert value(out, "polytail_venue_breaker_open", family="data_api") == 1
    assert "bad key" not in out
    stats.waits = 5
    assert value(text(metrics), "polytail_venue_rate_limit_waits_total", family="clob.orders") == 5


def test_the_venue_layers_counters_are_exported() -> None:
    _, metrics = attached()
    venue = VenueStats()
    metrics.add_stats("venue", venue)
    clob = venue.family("clob.orders")
    clob.rate_limit_waits, clob.throttled, clob.breaker_state = 4, 2, "opened"
    venue.stream("rtds").reconnects = 3
    out = text(metrics)
    family = {"family": "clob.orders"}
    assert value(out, "polytail_venue_rate_limit_waits_total", **family) == 4
    assert value(out, "polytail_venue_throttled_total", **family) == 2
    assert value(out, "polytail_venue_breaker_state", **family) == 2  # opened
    assert value(out, "polytail_venue_stream_reconnects_total", family="rtds") == 3


def test_a_broken_stats_source_loses_its_own_series_not_the_scrape() -> None:
    bus, metrics = attached()

    class Broken:
        def snapshot(self) -> dict[str, float]:
            raise RuntimeError("venue stats exploded")

    metrics.add_stats("venue", Broken())
    bus.publish(FillSighted(FeedSource.POLL, False, at_ms=1))
    assert value(text(metrics), "polytail_fills_sighted_total", source="poll", duplicate="false")


def test_each_engine_has_its_own_registry() -> None:
    bus_a, _metrics_a = attached()
    _, metrics_b = attached()
    bus_a.publish(FillSighted(FeedSource.POLL, False, at_ms=1))
    out = text(metrics_b)
    assert value(out, "polytail_fills_sighted_total", source="poll", duplicate="false") is None

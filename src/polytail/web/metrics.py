"""Prometheus metrics: engine events counted as they happen, account gauges on scrape.

`EngineMetrics` is a synchronous `EventBus` listener on the hot path, so it only bumps
counters: one dict lookup for the handler, one for the labelled child (cached here,
because `prometheus_client`'s own `labels()` validates and locks on every call). Account
figures (cash, equity, exposure, PnL) are not events; they are read from the service layer
when Prometheus scrapes. Other layers export plain counters through `StatsSource`.

Metric values are floats by nature of the exposition format: they are for graphs and
alerts. The exact figures live in the ledger and the service layer.

The registry is our own (never the process-global default), so tests and several engines
in one process do not share counters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Protocol

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from polytail.app.services import OperatorService, StatusView
from polytail.domain.money import SCALE, Usdc
from polytail.domain.orders import OrderState
from polytail.engine.events import (
    BreakerTripped,
    ComponentState,
    ComponentStatus,
    ConfigReloaded,
    DecisionMade,
    EngineError,
    Event,
    EventBus,
    FillDetected,
    FillSighted,
    KillSwitchChanged,
    MarketResolved,
    OrderUpdated,
    Redeemed,
    TradeBooked,
)

log = structlog.get_logger(__name__)

NAMESPACE: Final = "polytail"
DETECTION_BUCKETS_S: Final = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
_OPEN_STATES: Final = tuple(state for state in OrderState if state.is_open)
_NAME: Final = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class StatsSource(Protocol):
    """Plain counters another layer keeps (the venue's `VenueStats`, the notifier).

    `snapshot()` returns `{key: value}` where a key is `name` or `name/family`, e.g.
    `{"rate_limit_waits_total/clob.orders": 3, "breaker_open/data_api": 0}`. Names match
    `[a-zA-Z_][a-zA-Z0-9_]*`; a name ending in `_total` is a counter (never decreases),
    anything else a gauge. Exported as `polytail_<namespace>_<name>{family="..."}`. It is
    called on every scrape, so it should copy a few numbers and nothing more.
    """

    def snapshot(self) -> Mapping[str, float]: ...


def _usdc(amount: Usdc) -> float:
    return amount.units / SCALE


class _Children:
    """Labelled children of one metric, cached by label values."""

    __slots__ = ("_children", "_metric")

    def __init__(self, metric: Any) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


class _StatsCollector(Collector):
    def __init__(self, namespace: str, source: StatsSource) -> None:
        if not _NAME.fullmatch(namespace):
            raise ValueError(f"stats namespace {namespace!r} must match {_NAME.pattern}")
        self._prefix = f"{NAMESPACE}_{namespace}_"
        self._source = source
        self._warned: set[str] = set()

    def describe(self) -> Iterable[Metric]:
        return ()  # dynamic: the source decides its series; nothing to check at register

    def collect(self) -> Iterable[Metric]:
        try:
            snapshot = dict(self._source.snapshot())
        except Exception:
            log.exception("stats source failed; its series are missing from this scrape")
            return ()
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {}
        for key, value in sorted(snapshot.items()):
            name, _, family = key.partition("/")
            if not _NAME.fullmatch(name):
                if key not in self._warned:
                    self._warned.add(key)
                    log.warning("stats key ignored: not a metric name", key=key)
                continue
            metric = families.get(name)
            if metric is None:
                full = self._prefix + name
                metric = families[name] = (
                    CounterMetricFamily(full, f"{name} (counter)", labels=["family"])
                    if name.endswith("_total")
                    else GaugeMetricFamily(full, f"{name} (gauge)", labels=["family"])
                )
            metric.add_metric([family], float(value))
        return families.values()


class EngineMetrics:
    """Every engine metric in one registry. Attach with `attach(bus)`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        ns = NAMESPACE
        self._sighted = _Children(
            Counter(
                "fills_sighted",
                "Leader fill sightings per feed, including duplicates the merger absorbed",
                ["source", "duplicate"],
                namespace=ns,
                registry=r,
            )
        )
        self._detected = _Children(
            Counter(
                "fills_detected",
                "Leader fills detected (first sighting of a fill, by the feed that saw it)",
                ["source"],
                namespace=ns,
                registry=r,
            )
        )
        self._latency = _Children(
            Histogram(
                "detection_latency_seconds",
                "Venue timestamp to detection, per feed (venue clocks have 1 s precision)",
                ["source"],
                namespace=ns,
                registry=r,
                buckets=DETECTION_BUCKETS_S,
            )
        )
        self._decisions = _Children(
            Counter(
                "decisions",
                "Copy decisions by action (copy/skip) and primary reason code",
                ["action", "reason"],
                namespace=ns,
                registry=r,
            )
        )
        self._orders_gauge = Gauge(
            "orders", "Orders currently in each open state", ["state"], namespace=ns, registry=r
        )
        self._orders = _Children(self._orders_gauge)
        for state in _OPEN_STATES:
            self._orders(state.value).set(0)
        self._transitions = _Children(
            Counter(
                "order_transitions",
                "Order state transitions (previous is 'new' for a created order)",
                ["previous", "state"],
                namespace=ns,
                registry=r,
            )
        )
        self._trades = _Children(
            Counter("trades_booked", "Own trades booked", ["side"], namespace=ns, registry=r)
        )
        self._traded = _Children(
            Counter(
                "traded_notional_usdc",
                "Notional of own trades booked (pUSD)",
                ["side"],
                namespace=ns,
                registry=r,
            )
        )
        self._fees = Counter("fees_paid_usdc", "Fees paid (pUSD)", namespace=ns, registry=r)
        self._resolutions = Counter(
            "market_resolutions", "Markets resolved", namespace=ns, registry=r
        )
        self._redemptions = Counter("redemptions", "Redemptions", namespace=ns, registry=r)
        self._redeemed = Counter("redeemed_usdc", "pUSD redeemed", namespace=ns, registry=r)
        self._breaker = _Children(
            Gauge(
                "breaker_tripped",
                "1 while a risk breaker is tripped, 0 once cleared",
                ["scope", "reason", "leader"],
                namespace=ns,
                registry=r,
            )
        )
        self._breaker_trips = _Children(
            Counter(
                "breaker_trips",
                "Risk breaker trips",
                ["scope", "reason"],
                namespace=ns,
                registry=r,
            )
        )
        self._errors = _Children(
            Counter(
                "engine_errors",
                "Errors an operator should know about, by component",
                ["component", "fatal"],
                namespace=ns,
                registry=r,
            )
        )
        self._component = _Children(
            Gauge(
                "component_state",
                "1 for each component's current state (starting, ready, degraded, down)",
                ["component", "state"],
                namespace=ns,
                registry=r,
            )
        )
        self._reloads = Counter("config_reloads", "Configuration reloads", namespace=ns, registry=r)
        self._kill = Gauge(
            "kill_switch", "1 while the kill switch is engaged", namespace=ns, registry=r
        )
        # from the service layer, on scrape
        self._info = Gauge(
            "info", "Mode and account of this engine", ["mode", "account"], namespace=ns, registry=r
        )
        self._ready = Gauge(
            "ready", "1 when every required component is up", namespace=ns, registry=r
        )
        self._cash = Gauge("cash_usdc", "Cash (pUSD)", namespace=ns, registry=r)
        self._equity = Gauge(
            "equity_usdc", "Equity: cash + positions at their marks", namespace=ns, registry=r
        )
        self._exposure = Gauge(
            "exposure_usdc",
            "Cost of open positions + committed open buy orders",
            namespace=ns,
            registry=r,
        )
        self._pnl = _Children(
            Gauge(
                "pnl_usdc",
                "PnL by period (today: since 00:00 UTC; total) and kind (realized, unrealized)",
                ["period", "kind"],
                namespace=ns,
                registry=r,
            )
        )
        self._positions = Gauge("positions", "Open positions", namespace=ns, registry=r)
        self._uptime = Gauge("uptime_seconds", "Engine uptime", namespace=ns, registry=r)
        self._refresh_errors = Counter(
            "metrics_refresh_errors",
            "Scrapes on which the service layer could not be read",
            namespace=ns,
            registry=r,
        )
        self._open: dict[str, OrderState] = {}
        self._handlers: dict[type, Callable[[Any], None]] = {
            FillSighted: self._on_sighted,
            FillDetected: self._on_detected,
            DecisionMade: self._on_decision,
            OrderUpdated: self._on_order,
            TradeBooked: self._on_trade,
            MarketResolved: self._on_resolved,
            Redeemed: self._on_redeemed,
            BreakerTripped: self._on_breaker,
            EngineError: self._on_error,
            ComponentStatus: self._on_component,
            ConfigReloaded: self._on_reload,
            KillSwitchChanged: self._on_kill,
        }

    # --- wiring -------------------------------------------------------------------------
    def attach(self, bus: EventBus) -> Callable[[], None]:
        """Listen to `bus`; returns the function that detaches."""
        return bus.listen(self.on_event)

    def add_stats(self, namespace: str, source: StatsSource) -> None:
        """Export another layer's counters (e.g. `add_stats("venue", venue_stats)`)."""
        self.registry.register(_StatsCollector(namespace, source))

    def on_event(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    # --- exposition -----------------------------------------------------------------------
    async def refresh(self, service: OperatorService) -> None:
        """Update the account gauges from the service layer (called on each scrape)."""
        try:
            status = await service.status()
        except Exception:
            self._refresh_errors.inc()
            log.exception("metrics: the service layer could not be read; gauges are stale")
            return
        self.observe_status(status)

    def observe_status(self, status: StatusView) -> None:
        self._info.clear()
        self._info.labels(status.mode.value, status.account).set(1)
        self._ready.set(1 if status.health.ready else 0)
        self._cash.set(_usdc(status.cash))
        self._equity.set(_usdc(status.equity))
        self._exposure.set(_usdc(status.exposure))
        for period, pnl in (("today", status.pnl_today), ("total", status.pnl_total)):
            self._pnl(period, "realized").set(_usdc(pnl.realized))
            self._pnl(period, "unrealized").set(_usdc(pnl.unrealized))
        self._positions.set(status.positions)
        self._uptime.set(status.uptime_s)
        self._kill.set(1 if status.kill_switch.engaged else 0)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    # --- event handlers (hot path: keep them to counter bumps) ---------------------------
    def _on_sighted(self, event: FillSighted) -> None:
        self._sighted(event.source.value, "true" if event.duplicate else "false").inc()

    def _on_detected(self, event: FillDetected) -> None:
        source = event.fill.source.value
        self._detected(source).inc()
        if event.detection_ms is not None:
            self._latency(source).observe(event.detection_ms / 1000)

    def _on_decision(self, event: DecisionMade) -> None:
        decision = event.decision
        self._decisions(decision.action.value, decision.primary_reason.value).inc()

    def _on_order(self, event: OrderUpdated) -> None:
        order = event.order
        key = order.intent.client_id
        state = order.state
        before = self._open.pop(key, None)
        if before is not None:
            self._orders(before.value).dec()
        if state.is_open:
            self._open[key] = state
            self._orders(state.value).inc()
        previous = event.previous.value if event.previous is not None else "new"
        self._transitions(previous, state.value).inc()

    def _on_trade(self, event: TradeBooked) -> None:
        side = event.side.value
        self._trades(side).inc()
        self._traded(side).inc(_usdc(event.notional))
        if event.fee.units:
            self._fees.inc(_usdc(event.fee))

    def _on_resolved(self, _: MarketResolved) -> None:
        self._resolutions.inc()

    def _on_redeemed(self, event: Redeemed) -> None:
        self._redemptions.inc()
        self._redeemed.inc(_usdc(event.payout))

    def _on_breaker(self, event: BreakerTripped) -> None:
        scope, reason = event.scope.value, event.reason.value
        self._breaker(scope, reason, event.leader or "").set(0 if event.cleared else 1)
        if not event.cleared:
            self._breaker_trips(scope, reason).inc()

    def _on_error(self, event: EngineError) -> None:
        self._errors(event.component, "true" if event.fatal else "false").inc()

    def _on_component(self, event: ComponentStatus) -> None:
        for state in ComponentState:
            self._component(event.component, state.value).set(1 if state is event.state else 0)

    def _on_reload(self, _: ConfigReloaded) -> None:
        self._reloads.inc()

    def _on_kill(self, event: KillSwitchChanged) -> None:
        self._kill.set(1 if event.engaged else 0)

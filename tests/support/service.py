"""An in-memory `OperatorService`: a test double of our own interface.

The transports under test (HTTP, dashboard, Telegram, webhooks, metrics) are real; this
stands in only for the store- and engine-backed implementation that comes later. It keeps
what tests set, records every order it is given (`calls`), publishes the events a real
implementation publishes (kill switch, leader pauses), and learns decisions and component
health from the bus like the real one will.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal

from polytail.app.health import HealthTracker
from polytail.app.services import (
    BreakerView,
    DecisionView,
    DigestView,
    KillSwitch,
    LeaderDigest,
    LeaderView,
    OrderView,
    Pnl,
    PositionView,
    Readiness,
    StatusView,
    find_leader,
)
from polytail.config.schema import Mode
from polytail.domain.decisions import Action
from polytail.domain.ids import AccountId, Address, FillId
from polytail.domain.money import Shares, Usdc
from polytail.domain.positions import Position
from polytail.engine.events import (
    DecisionMade,
    Event,
    EventBus,
    KillSwitchChanged,
    LeaderPaused,
    OrderUpdated,
)
from tests.support.samples import ACCOUNT, ALICE, CONDITION, T0, YES


def leader_view(address: Address, label: str, **changes: object) -> LeaderView:
    view = LeaderView(
        address=address,
        label=label,
        enabled=True,
        paused=False,
        copies=0,
        skips=0,
        realized_pnl=Usdc(0),
        unrealized_pnl=Usdc(0),
        budget=Usdc.parse("500"),
        budget_used=Usdc(0),
    )
    return replace(view, **changes)  # type: ignore[arg-type]


@dataclass
class InMemoryService:
    health: HealthTracker
    mode: Mode = Mode.PAPER
    account: AccountId = ACCOUNT
    bus: EventBus | None = None
    now_ms: int = T0 + 3_600_000
    cash: Usdc = field(default_factory=lambda: Usdc.parse("1000"))
    realized_today: Usdc = field(default_factory=lambda: Usdc(0))
    realized_total: Usdc = field(default_factory=lambda: Usdc(0))
    positions_held: list[tuple[Position, str, str, Decimal | None]] = field(default_factory=list)
    order_views: list[OrderView] = field(default_factory=list)
    leader_views: dict[Address, LeaderView] = field(default_factory=dict)
    decision_views: list[DecisionView] = field(default_factory=list)
    breakers: list[BreakerView] = field(default_factory=list)
    kill: KillSwitch = field(default_factory=lambda: KillSwitch(False))
    calls: list[tuple[str, str]] = field(default_factory=list)
    broken: bool = False  # status() raises, to test that transports survive it

    # --- feeding it ---------------------------------------------------------------------
    def attach(self, bus: EventBus) -> None:
        self.bus = bus
        bus.listen(self.health.on_event)
        bus.listen(self.on_event)

    def on_event(self, event: Event) -> None:
        if isinstance(event, DecisionMade):
            decision = event.decision
            label = self.leader_views[decision.leader].label if decision.leader else ""
            self.decision_views.insert(
                0, DecisionView(decision, leader_label=label, market="will-it-rain-tomorrow")
            )
            if decision.leader in self.leader_views:
                view = self.leader_views[decision.leader]
                if decision.action is Action.COPY:
                    self.leader_views[decision.leader] = replace(view, copies=view.copies + 1)
                else:
                    self.leader_views[decision.leader] = replace(view, skips=view.skips + 1)
        elif isinstance(event, OrderUpdated):
            others = [v for v in self.order_views if v.order.client_id != event.order.client_id]
            self.order_views = [OrderView(event.order, market="will-it-rain-tomorrow"), *others]

    def add_leader(self, address: Address, label: str, **changes: object) -> None:
        self.leader_views[address] = leader_view(address, label, **changes)

    def hold(self, position: Position, market: str, outcome: str, mark: Decimal | None) -> None:
        self.positions_held.append((position, market, outcome, mark))

    # --- OperatorService --------------------------------------------------------------------
    async def status(self) -> StatusView:
        if self.broken:
            raise RuntimeError("store unavailable")
        views = await self.positions()
        unrealized = Usdc(sum((v.unrealized_pnl or Usdc(0)).units for v in views))
        value = Usdc(sum((v.market_value or v.cost).units for v in views))
        exposure = Usdc(sum(v.cost.units for v in views))
        return StatusView(
            mode=self.mode,
            account=self.account,
            started_at_ms=T0,
            now_ms=self.now_ms,
            cash=self.cash,
            equity=self.cash + value,
            exposure=exposure,
            pnl_today=Pnl(self.realized_today, unrealized),
            pnl_total=Pnl(self.realized_total, unrealized),
            open_orders=sum(1 for v in self.order_views if v.order.state.is_open),
            positions=len(views),
            breakers=tuple(self.breakers),
            health=self.health.readiness(),
            kill_switch=self.kill,
        )

    async def readiness(self) -> Readiness:
        return self.health.readiness()

    async def positions(self) -> tuple[PositionView, ...]:
        labels = {a: v.label for a, v in self.leader_views.items()}
        views = [
            PositionView.of(p, market=m, outcome=o, mark=mark, labels=labels)
            for p, m, o, mark in self.positions_held
            if not p.is_flat
        ]
        return tuple(sorted(views, key=lambda v: v.cost, reverse=True))

    async def orders(self, *, open_only: bool = True, limit: int = 100) -> tuple[OrderView, ...]:
        views = [v for v in self.order_views if v.order.state.is_open or not open_only]
        return tuple(views[:limit])

    async def leaders(self) -> tuple[LeaderView, ...]:
        return tuple(self.leader_views.values())

    async def decisions(
        self, *, limit: int = 50, why: FillId | None = None
    ) -> tuple[DecisionView, ...]:
        if why is not None:
            return tuple(v for v in self.decision_views if v.decision.fill_id == why)
        return tuple(self.decision_views[:limit])

    async def pause_leader(self, leader: str, *, by: str) -> LeaderView:
        return self._set_paused(leader, paused=True, by=by)

    async def resume_leader(self, leader: str, *, by: str) -> LeaderView:
        return self._set_paused(leader, paused=False, by=by)

    def _set_paused(self, query: str, *, paused: bool, by: str) -> LeaderView:
        view = find_leader(self.leader_views.values(), query)
        self.calls.append(("pause" if paused else "resume", view.address))
        updated = replace(view, paused=paused)
        self.leader_views[view.address] = updated
        if self.bus is not None:
            self.bus.publish(LeaderPaused(view.address, paused, by, self.now_ms))
        return updated

    async def set_kill_switch(self, on: bool, *, by: str) -> KillSwitch:
        self.calls.append(("kill" if on else "unkill", by))
        self.kill = KillSwitch(on, by, self.now_ms)
        if self.bus is not None:
            self.bus.publish(KillSwitchChanged(on, by, self.now_ms))
        return self.kill

    async def daily_digest(self, day: dt.date | None = None) -> DigestView:
        status = await self.status()
        skips = Counter(
            v.decision.primary_reason
            for v in self.decision_views
            if v.decision.action is Action.SKIP
        )
        copies = sum(1 for v in self.decision_views if v.decision.action is Action.COPY)
        return DigestView(
            day=day or dt.datetime.fromtimestamp(self.now_ms / 1000, dt.UTC).date(),
            mode=self.mode,
            account=self.account,
            equity=status.equity,
            cash=status.cash,
            exposure=status.exposure,
            pnl=status.pnl_today,
            fills_detected=len(self.decision_views),
            copies=copies,
            skips=skips.total(),
            top_skip_reasons=tuple(skips.most_common(3)),
            orders_filled=copies,
            orders_failed=0,
            resolutions=0,
            redeemed=Usdc(0),
            errors=0,
            leaders=tuple(
                LeaderDigest(v.address, v.label, v.copies, v.skips, v.realized_pnl)
                for v in self.leader_views.values()
            ),
        )


def alice_position(shares: str = "20", cost: str = "10.4") -> Position:
    empty = Position(ACCOUNT, YES, CONDITION, 0)
    return empty.bought(ALICE, Shares.parse(shares), Usdc.parse(cost), Usdc(0))

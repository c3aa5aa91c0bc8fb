"""The operator service behind the CLI, the dashboard and Telegram: store- and engine-backed.

One implementation of `OperatorService` for both situations a front end meets:

- **with a running engine** (`polytail run`): money comes from the engine's ledger (exact,
  current to the last booking) valued at the engine's last marks; readiness from the
  `HealthTracker`; breakers from the `BreakerWatch`;
- **offline** (`polytail status` while nothing runs, or beside a running engine in another
  process): the ledger is restored from the store, positions are valued at cost (no
  network), and readiness says no engine is running.

Everything else (orders, decisions, leaders, the digest) is read from the store in a worker
thread, so a slow query never stalls the engine's event loop. Orders given here (pause,
resume, kill switch) go through `Controls`, which writes the audit log, publishes the event
and updates what the policy reads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Final, TypeVar

from polytail.app.breakers import BreakerWatch
from polytail.app.controls import Controls
from polytail.app.health import HealthTracker, required_components
from polytail.app.services import (
    ComponentHealth,
    DecisionView,
    DigestView,
    KillSwitch,
    LeaderDigest,
    LeaderView,
    OrderView,
    Pnl,
    PositionView,
    Readiness,
    ServiceError,
    StatusView,
    find_leader,
)
from polytail.config.schema import PolytailConfig
from polytail.domain.clock import Clock
from polytail.domain.decisions import Action, Decision
from polytail.domain.fills import LeaderFill, Side
from polytail.domain.ids import AccountId, Address, FillId, TokenId, account_id
from polytail.domain.ledger import HoldingStatus, MarketResolved, Redemption, utc_day
from polytail.domain.money import SCALE, Price, Usdc
from polytail.domain.orders import Order, OrderState
from polytail.engine.events import ComponentState, EngineError, Event
from polytail.portfolio.ledger import Ledger
from polytail.portfolio.valuation import mark
from polytail.store import Store
from polytail.store.store import Transaction

if TYPE_CHECKING:
    from polytail.engine.runtime import Engine

T = TypeVar("T")
_DAY_MS: Final = 86_400_000
_OPEN_STATES: Final = tuple(state for state in OrderState if state.is_open)
NOT_RUNNING: Final = "no engine is running in this process (`polytail run` starts one)"


def price_decimal(price: Price) -> Decimal:
    return Decimal(price.micros) / SCALE


@dataclass(frozen=True, slots=True)
class _Labels:
    """Names for display: leader labels from the config, market/outcome from the fills."""

    leaders: Mapping[Address, str]
    markets: Mapping[TokenId, tuple[str, str]]

    def leader(self, leader: Address | None) -> str:
        if leader is None:
            return ""
        return self.leaders.get(leader, leader[:10])

    def market(self, token: TokenId | None) -> tuple[str, str]:
        if token is None:
            return "", ""
        return self.markets.get(token, (token[:12] + "…", ""))


class StoreService:
    """`OperatorService` over the store, and the engine when one runs in this process."""

    def __init__(
        self,
        *,
        config: PolytailConfig,
        store: Store,
        controls: Controls,
        clock: Clock,
        health: HealthTracker | None = None,
        breakers: BreakerWatch | None = None,
        engine: Engine | None = None,
        started_at_ms: int | None = None,
    ) -> None:
        self.config = config
        self.account: AccountId = account_id(config.account)
        self.store = store
        self.controls = controls
        self.clock = clock
        self.health = health
        self.breakers = breakers
        self.engine = engine
        self.started_at_ms = clock.now_ms() if started_at_ms is None else started_at_ms
        self.errors = 0  # engine errors seen (the digest counts them)

    def on_event(self, event: Event) -> None:
        """Bus listener: counts errors for the digest."""
        if type(event) is EngineError:
            self.errors += 1

    # --- reading -------------------------------------------------------------------------
    async def _read(self, work: Callable[[Transaction], T]) -> T:
        def run() -> T:
            with self.store.read() as tx:
                return work(tx)

        return await asyncio.to_thread(run)

    async def _ledger(self) -> Ledger:
        if self.engine is not None:
            return self.engine.orders.ledger
        snapshot = await self._read(lambda tx: tx.ledger.load(self.account))
        return Ledger.restore(snapshot)

    def _marks(self) -> dict[TokenId, Price]:
        return dict(self.engine.pipeline.marks) if self.engine is not None else {}

    def _labels(self, tx: Transaction, tokens: Iterable[TokenId]) -> _Labels:
        leaders = {Address(leader.address): leader.label for leader in self.config.leaders}
        return _Labels(leaders, tx.fills.labels(tokens))

    # --- OperatorService -----------------------------------------------------------------
    async def status(self) -> StatusView:
        now_ms = self.clock.now_ms()
        ledger = await self._ledger()
        marks = self._marks()
        valuation = mark(ledger, marks, now_ms)
        open_orders = await self._read(lambda tx: tx.orders.in_states(self.account, _OPEN_STATES))
        reserved = sum(_reserve(order).units for order in open_orders)
        unrealized = valuation.unrealized_pnl
        return StatusView(
            mode=self.config.mode,
            account=self.account,
            started_at_ms=self.started_at_ms,
            now_ms=now_ms,
            cash=ledger.cash,
            equity=valuation.equity,
            exposure=ledger.open_cost + Usdc(reserved),
            pnl_today=Pnl(ledger.daily_realized(utc_day(now_ms)), unrealized),
            pnl_total=Pnl(ledger.totals.realized_pnl, unrealized),
            open_orders=len(open_orders),
            positions=sum(1 for h in ledger.holdings() if not h.position.is_flat),
            breakers=self.breakers.tripped() if self.breakers is not None else (),
            health=await self.readiness(),
            kill_switch=self.controls.kill,
        )

    async def readiness(self) -> Readiness:
        if self.health is not None:
            return self.health.readiness()
        components = tuple(
            ComponentHealth(name, ComponentState.DOWN, NOT_RUNNING, None, True)
            for name in required_components(self.config)
        )
        return Readiness(ready=False, components=components)

    async def positions(self) -> tuple[PositionView, ...]:
        ledger = await self._ledger()
        marks = self._marks()
        holdings = [h for h in ledger.holdings() if not h.position.is_flat]
        labels = await self._read(lambda tx: self._labels(tx, [h.token_id for h in holdings]))
        views = []
        for holding in holdings:
            price: Decimal | None = None
            if holding.status is not HoldingStatus.OPEN:
                price = holding.payout_per_share
            elif holding.token_id in marks:
                price = price_decimal(marks[holding.token_id])
            market, outcome = labels.market(holding.token_id)
            views.append(
                PositionView.of(
                    holding.position,
                    market=market,
                    outcome=outcome,
                    mark=price,
                    labels=labels.leaders,
                )
            )
        return tuple(sorted(views, key=lambda view: view.cost, reverse=True))

    async def orders(self, *, open_only: bool = True, limit: int = 100) -> tuple[OrderView, ...]:
        def read(tx: Transaction) -> tuple[list[Order], _Labels]:
            if open_only:
                found = tx.orders.in_states(self.account, _OPEN_STATES)
                found.sort(key=lambda order: order.intent.created_at_ms, reverse=True)
                found = found[:limit]
            else:
                found = tx.orders.recent(self.account, limit=limit)
            return found, self._labels(tx, {o.intent.token_id for o in found})

        found, labels = await self._read(read)
        views = []
        for order in found:
            market, outcome = labels.market(order.intent.token_id)
            views.append(OrderView(order, market, outcome, labels.leader(order.intent.leader)))
        return tuple(views)

    async def leaders(self) -> tuple[LeaderView, ...]:
        ledger = await self._ledger()
        valuation = mark(ledger, self._marks(), self.clock.now_ms())
        wallets = [Address(leader.address) for leader in self.config.leaders]

        def read(
            tx: Transaction,
        ) -> tuple[dict[tuple[Address | None, Action], int], dict[Address, int], list[Order]]:
            return (
                tx.decisions.counts(self.account),
                tx.fills.last_seen(wallets),
                tx.orders.in_states(self.account, _OPEN_STATES),
            )

        counts, last, open_orders = await self._read(read)
        reserved: Counter[Address] = Counter()
        for order in open_orders:
            if order.intent.leader is not None:
                reserved[order.intent.leader] += _reserve(order).units
        views = []
        for settings in self.config.leaders:
            leader = Address(settings.address)
            value = valuation.leaders.get(leader)
            views.append(
                LeaderView(
                    address=leader,
                    label=settings.label,
                    enabled=settings.enabled,
                    paused=leader in self.controls.paused,
                    copies=counts.get((leader, Action.COPY), 0),
                    skips=counts.get((leader, Action.SKIP), 0),
                    realized_pnl=ledger.leader_pnl(leader).realized_pnl,
                    unrealized_pnl=value.unrealized_pnl if value is not None else Usdc(0),
                    budget=Usdc.parse(self.config.leader_budget(settings)),
                    budget_used=(value.open_cost if value is not None else Usdc(0))
                    + Usdc(reserved[leader]),
                    last_fill_at_ms=last[leader] * 1000 if leader in last else None,
                )
            )
        return tuple(views)

    async def decisions(
        self, *, limit: int = 50, why: FillId | None = None
    ) -> tuple[DecisionView, ...]:
        def read(tx: Transaction) -> list[DecisionView]:
            if why is not None:
                found = list(reversed(tx.decisions.why(self.account, why)))
            else:
                found = tx.decisions.recent(self.account, limit=limit)
            labels = self._labels(tx, {d.token_id for d in found if d.token_id is not None})
            fills: dict[FillId, LeaderFill | None] = {}
            for decision in found:
                if decision.fill_id is not None and decision.fill_id not in fills:
                    fills[decision.fill_id] = tx.fills.get(decision.fill_id)
            return [self._decision_view(d, labels, fills) for d in found]

        return tuple(await self._read(read))

    @staticmethod
    def _decision_view(
        decision: Decision, labels: _Labels, fills: Mapping[FillId, LeaderFill | None]
    ) -> DecisionView:
        market, outcome = labels.market(decision.token_id)
        fill = fills.get(decision.fill_id) if decision.fill_id is not None else None
        return DecisionView(decision, labels.leader(decision.leader), market, outcome, fill)

    async def pause_leader(self, leader: str, *, by: str) -> LeaderView:
        return await self._pause(leader, paused=True, by=by)

    async def resume_leader(self, leader: str, *, by: str) -> LeaderView:
        return await self._pause(leader, paused=False, by=by)

    async def _pause(self, query: str, *, paused: bool, by: str) -> LeaderView:
        found = find_leader(await self.leaders(), query)
        if not found.enabled and paused:
            raise ServiceError(f"{found.label} is disabled in the config; it is not copied anyway")
        self.controls.set_paused(found.address, paused, by=by)  # on the loop: it publishes
        return find_leader(await self.leaders(), found.address)

    async def set_kill_switch(self, on: bool, *, by: str) -> KillSwitch:
        return self.controls.set_kill(on, by=by)  # on the loop: it publishes

    async def daily_digest(self, day: dt.date | None = None) -> DigestView:
        now_ms = self.clock.now_ms()
        wanted = day or dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).date()
        start = int(dt.datetime.combine(wanted, dt.time(), dt.UTC).timestamp() * 1000)
        end = start + _DAY_MS

        def read(tx: Transaction) -> tuple[list[Decision], list[Order], int, list[object]]:
            decided = tx.decisions.between(self.account, since_ms=start, until_ms=end)
            created = tx.orders.created_between(self.account, since_ms=start, until_ms=end)
            seen = tx.fills.count_seen(since_ms=start, until_ms=end)
            events = [e for e in tx.ledger.events(self.account) if start <= e.at_ms < end]
            return decided, created, seen, list(events)

        decided, created, seen, events = await self._read(read)
        status = await self.status()
        ledger = await self._ledger()
        skips = Counter(d.primary_reason for d in decided if d.action is Action.SKIP)
        per_leader: dict[Address, list[int]] = {}
        for decision in decided:
            if decision.leader is not None:
                counts = per_leader.setdefault(decision.leader, [0, 0])
                counts[0 if decision.action is Action.COPY else 1] += 1
        labels = {Address(leader.address): leader.label for leader in self.config.leaders}
        day_index = utc_day(start)
        return DigestView(
            day=wanted,
            mode=self.config.mode,
            account=self.account,
            equity=status.equity,
            cash=status.cash,
            exposure=status.exposure,
            pnl=Pnl(ledger.daily_realized(day_index), status.pnl_today.unrealized),
            fills_detected=seen,
            copies=sum(1 for d in decided if d.action is Action.COPY),
            skips=skips.total(),
            top_skip_reasons=tuple(skips.most_common(3)),
            orders_filled=sum(1 for o in created if o.filled.is_positive),
            orders_failed=sum(
                1 for o in created if o.state.is_terminal and not o.filled.is_positive
            ),
            resolutions=sum(1 for e in events if isinstance(e, MarketResolved)),
            redeemed=Usdc(sum(e.payout.units for e in events if isinstance(e, Redemption))),
            errors=self.errors,
            leaders=tuple(
                LeaderDigest(
                    leader,
                    labels.get(leader, leader[:10]),
                    copies,
                    skipped,
                    ledger.daily_realized(day_index, leader),
                )
                for leader, (copies, skipped) in sorted(per_leader.items())
            ),
        )


def _reserve(order: Order) -> Usdc:
    """What an open BUY still commits: its unspent notional (SELLs commit no cash)."""
    if order.intent.side is not Side.BUY:
        return Usdc(0)
    return Usdc(max(0, (order.intent.max_spend - order.filled_notional).units))


@contextmanager
def offline_service(config: PolytailConfig, clock: Clock | None = None) -> Iterator[StoreService]:
    """The service over the store alone (the CLI's `status`, `positions`, ... and `kill`):
    no engine, positions valued at cost, readiness "not running in this process"."""
    from polytail.engine.clock import WallClock  # noqa: PLC0415

    the_clock: Clock = clock or WallClock()
    store = Store.from_config(config)
    try:
        controls = Controls(config=config, store=store, clock=the_clock)
        yield StoreService(config=config, store=store, controls=controls, clock=the_clock)
    finally:
        store.close()

"""The replay driver: leader fills through the engine polytail trades with, on replay edges.

The engine (`engine.runtime.Engine`: policy, order manager, broker, ledger, store) is
built exactly as for paper trading; only its edges differ:

- fills come from the tape (replayed files or a cached Data API history), each
  delivered at venue time + latency (+ seeded jitter), in delivery order;
- the clock is a `SimulatedClock` the driver moves to each delivery;
- books come from `ReplayBooks` (recorded snapshots, else the price model), the paper
  broker walks them (the ideal venue's `IdealBroker` fills at the exact model price);
- markets come from `ReplayMarkets`, open until their resolution time;
- the store is an in-memory SQLite database (every decision, order and booking is
  written exactly as live, and can be inspected after the run).

The driver calls the pipeline directly (`Pipeline.handle`) instead of `Engine.run`,
whose loops pace themselves on the wall clock: housekeeping (paper crossings, order
time limits, marks, exit rules) runs every `housekeeping_ms` of simulated time when
anything needs it, and resolutions and redemptions run at each market's resolution
time. Nothing reads the wall clock, and the only randomness (latency jitter) is seeded,
so a run is deterministic for its inputs and seed.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import structlog

from polytail.backtest.accounting import Book, Trade
from polytail.backtest.books import RecordedBooks, ReplayBooks
from polytail.backtest.curve import Curves
from polytail.backtest.ideal import IdealBroker, IdealPolicy
from polytail.backtest.markets import (
    MarketCatalog,
    ReplayMarkets,
    corrected_end_dates,
    resolution_times,
)
from polytail.backtest.settings import BacktestSettings, engine_config
from polytail.backtest.tape import Tape, fill_ms
from polytail.config.schema import PolytailConfig, SizingMode
from polytail.domain.decisions import Decision
from polytail.domain.fills import LeaderFill
from polytail.domain.ids import Address, ConditionId, FillId, TokenId
from polytail.domain.orders import OrderState
from polytail.engine.clock import SimulatedClock
from polytail.engine.events import (
    DecisionMade,
    EngineError,
    EventBus,
    MarketResolved,
    OrderUpdated,
    TradeBooked,
)
from polytail.engine.runtime import Edges, Engine, LedgerAccount
from polytail.execution.broker import Broker
from polytail.execution.paper import PaperBroker
from polytail.store import Store

log = structlog.get_logger(__name__)

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a backtest replays: the leaders' fills in venue-time order, the markets'
    metadata, recorded books (if any), and what could not be read."""

    fills: Sequence[LeaderFill]
    catalog: MarketCatalog
    recorded: RecordedBooks | None = None
    problems: tuple[str, ...] = ()


@dataclass(slots=True)
class Copy:
    """What became of one leader fill."""

    fill: LeaderFill
    delivered_ms: int
    decision: Decision | None = None
    state: OrderState | None = None  # the copy order's last state
    shares: Decimal = ZERO  # filled
    notional: Decimal = ZERO
    fee: Decimal = ZERO

    @property
    def copied(self) -> bool:
        return self.shares > 0

    @property
    def outcome(self) -> str:
        """`copied`, or why not: the skip's reason code, or `unfilled:<order state>`."""
        if self.copied:
            return "copied"
        if self.decision is None:
            return "undecided"
        if not self.decision.is_copy:
            return self.decision.primary_reason.value
        return f"unfilled:{self.state.value if self.state else 'unsent'}"


@dataclass
class Record:
    """Everything a run produced, for the report."""

    settings: BacktestSettings
    config: PolytailConfig
    leaders: tuple[Address, ...]
    fills: list[LeaderFill]
    copies: dict[FillId, Copy]
    follower: Book
    leader_book: Book
    follower_curves: Curves
    leader_curves: Curves
    payouts: dict[TokenId, Decimal]
    resolved_ms: dict[ConditionId, int]
    end_ms: int
    ledger_pnl: Decimal  # the engine's own ledger: equity - deposits at the end
    other_decisions: Counter[str]  # exit-rule decisions by reason
    books_served: Counter[str]
    problems: list[str]
    errors: list[str]
    catalog: MarketCatalog = field(repr=False)

    def final_mark(self, token: TokenId) -> Decimal | None:
        """The last traded price of `token` in the replay."""
        return self.leader_curves.combined.marks.get(token)


class _Recorder:
    """Listens to the engine's bus and keeps what the report needs."""

    def __init__(self, copies: dict[FillId, Copy], catalog: MarketCatalog) -> None:
        self.copies = copies
        self.catalog = catalog
        self.curves = Curves()
        self.book = Book()
        self.fill_of: dict[str, FillId] = {}  # client id -> leader fill
        self.other: Counter[str] = Counter()
        self.errors: list[str] = []
        self.open_orders: set[str] = set()

    def __call__(self, event: object) -> None:
        if isinstance(event, DecisionMade):
            self._decision(event.decision)
        elif isinstance(event, OrderUpdated):
            intent = event.order.intent
            if event.order.state.is_open:
                self.open_orders.add(intent.client_id)
            else:
                self.open_orders.discard(intent.client_id)
            if intent.fill_id is not None:
                self.fill_of[intent.client_id] = intent.fill_id
                copy = self.copies.get(intent.fill_id)
                if copy is not None:
                    copy.state = event.order.state
        elif isinstance(event, TradeBooked):
            self._trade(event)
        elif isinstance(event, MarketResolved):
            market = self.catalog.get(event.condition_id)
            if market is not None:
                for outcome in market.outcomes:
                    payout = event.resolution.payout_per_share(outcome.index)
                    self.curves.settle(outcome.token_id, payout)
        elif isinstance(event, EngineError):
            self.errors.append(f"{event.component}: {event.message}")

    def _decision(self, decision: Decision) -> None:
        copy = self.copies.get(decision.fill_id) if decision.fill_id else None
        if copy is None:
            self.other[decision.primary_reason.value] += 1
        else:
            copy.decision = decision

    def _trade(self, event: TradeBooked) -> None:
        shares, notional, fee = (
            event.shares.to_decimal(),
            event.notional.to_decimal(),
            event.fee.to_decimal(),
        )
        fill_id = self.fill_of.get(event.client_id)
        copy = self.copies.get(fill_id) if fill_id else None
        if copy is not None:
            copy.shares += shares
            copy.notional += notional
            copy.fee += fee
        market = self.catalog.for_token(event.token_id)
        wallet = event.leader or Address("unattributed")
        self.book.apply(
            Trade(
                wallet=wallet,
                condition=None if market is None else market.condition_id,
                token=event.token_id,
                side=event.side,
                shares=shares,
                notional=notional,
                fee=fee,
                at_ms=event.at_ms,
            )
        )
        self.curves.trade(
            wallet, event.token_id, event.side, shares=shares, notional=notional, fee=fee
        )


async def _no_fills() -> AsyncIterator[LeaderFill]:
    return
    yield  # the driver hands fills to the pipeline itself


def delivery_times(fills: Sequence[LeaderFill], settings: BacktestSettings) -> list[int]:
    """When each fill reaches the engine: venue time + latency + seeded jitter."""
    jitter = random.Random(settings.seed)  # noqa: S311 - a seeded simulation, not security
    times = []
    for fill in fills:
        extra = jitter.randint(0, settings.jitter_ms) if settings.jitter_ms else 0
        times.append(fill_ms(fill) + settings.latency_ms + extra)
    return times


def condition_of(fill: LeaderFill, catalog: MarketCatalog) -> ConditionId | None:
    if fill.condition_id is not None:
        return fill.condition_id
    market = catalog.for_token(fill.token_id)
    return None if market is None else market.condition_id


class Replay:
    """One backtest run (build with the inputs, then `await run()`)."""

    def __init__(
        self,
        inputs: Inputs,
        settings: BacktestSettings,
        config: PolytailConfig | None = None,
    ) -> None:
        wanted = set(settings.leaders)
        self.leaders = tuple(sorted(wanted or {fill.wallet for fill in inputs.fills}))
        chosen = set(self.leaders)
        self.fills = [fill for fill in inputs.fills if fill.wallet in chosen]
        self.inputs = inputs
        self.settings = settings
        self.config = engine_config(config, settings, self.leaders)
        self.tape = Tape(self.fills)
        self.delivered = delivery_times(self.fills, settings)
        self.order = sorted(range(len(self.fills)), key=lambda i: (self.delivered[i], i))
        self.end_ms = max(self.delivered, default=0)
        last: dict[ConditionId, int] = {}
        for fill, at in zip(self.fills, self.delivered, strict=True):
            condition = condition_of(fill, inputs.catalog)
            if condition is not None:
                last[condition] = max(last.get(condition, 0), at)
        self.resolves = resolution_times(inputs.catalog, last, self.end_ms)
        self.end_dates = corrected_end_dates(inputs.catalog, last, self.resolves, self.end_ms)

    async def run(self) -> Record:
        settings, catalog = self.settings, self.inputs.catalog
        start = min(self.delivered, default=0)
        clock = SimulatedClock(start)
        markets = ReplayMarkets(catalog, clock.now_ms, self.resolves, self.end_dates)
        books = ReplayBooks(
            self.tape,
            catalog,
            settings.price_model,
            None if settings.ideal else self.inputs.recorded,
            max_age_ms=settings.book_max_age_ms,
        )
        holder: list[Engine] = []
        account = LedgerAccount(lambda: holder[0].orders)
        broker: Broker
        if settings.ideal:
            broker = IdealBroker(
                books,
                settings.price_model,
                cash=account.cash,
                shares=account.shares,
                now_ms=clock.now_ms,
            )
        else:
            broker = PaperBroker(
                books, account, latency_ms=0, now_ms=clock.now_ms, sleep=clock.sleep
            )
        bus = EventBus()
        store = Store.open("sqlite://")
        engine = Engine(
            self.config, store, Edges(_no_fills(), broker, markets, books, clock), bus=bus
        )
        holder.append(engine)
        if settings.ideal:
            engine.pipeline.policy = IdealPolicy.for_config(self.config)
        copies = {
            fill.fill_id: Copy(fill, at)
            for fill, at in zip(self.fills, self.delivered, strict=True)
        }
        recorder = _Recorder(copies, catalog)
        bus.listen(recorder)
        try:
            await engine.start()
            deposits = engine.orders.ledger.totals.deposits
            await self._drive(engine, clock, books, recorder)
            ledger = engine.orders.ledger
            holdings_value = ZERO
            for holding in ledger.holdings():
                mark = (
                    holding.claim_value.to_decimal()
                    if ledger.resolution(holding.condition_id) is not None
                    else holding.position.shares.to_decimal()
                    * (books.reference(holding.token_id) or ZERO)
                )
                holdings_value += mark
            ledger_pnl = ledger.cash.to_decimal() + holdings_value - deposits.to_decimal()
        finally:
            await engine.shutdown()
        leader_book, leader_curves = self._leader_side()
        payouts = self._payouts()
        return Record(
            settings=settings,
            config=self.config,
            leaders=self.leaders,
            fills=self.fills,
            copies=copies,
            follower=recorder.book,
            leader_book=leader_book,
            follower_curves=recorder.curves,
            leader_curves=leader_curves,
            payouts=payouts,
            resolved_ms={c: t for c, t in self.resolves.items() if t is not None},
            end_ms=self.end_ms,
            ledger_pnl=ledger_pnl,
            other_decisions=recorder.other,
            books_served=books.served,
            problems=list(self.inputs.problems),
            errors=recorder.errors,
            catalog=catalog,
        )

    async def _drive(
        self, engine: Engine, clock: SimulatedClock, books: ReplayBooks, recorder: _Recorder
    ) -> None:
        curves = recorder.curves
        due = sorted((t, c) for c, t in self.resolves.items() if t is not None)
        due_index = 0
        horizon = -1
        last_housekeeping: int | None = None
        always = self._housekeeping_always()
        for index in self.order:
            at = self.delivered[index]
            while due_index < len(due) and due[due_index][0] < at:
                moment = due[due_index][0]
                while due_index < len(due) and due[due_index][0] == moment:
                    due_index += 1
                clock.advance_to(moment)
                horizon = self._move(books, curves, horizon, horizon, moment)
                await engine.pipeline.check_resolutions()
            clock.advance_to(at)
            fill = self.fills[index]
            horizon = self._move(books, curves, horizon, index, at, exact=at == fill_ms(fill))
            if (always or recorder.open_orders) and (
                last_housekeeping is None or at - last_housekeeping >= self.settings.housekeeping_ms
            ):
                last_housekeeping = at
                await self._housekeeping(engine)
            try:
                await engine.pipeline.handle(fill)
            except Exception as error:  # the run goes on; the fill is listed as undecided
                log.exception("backtest: fill failed", fill_id=fill.fill_id)
                engine.bus.publish(EngineError("pipeline", f"{fill.fill_id}: {error}", at))
            curves.point(at)
        final = max([self.end_ms] + [t for t, _ in due])
        clock.advance_to(final)
        self._move(books, curves, horizon, len(self.fills) - 1, final)
        await engine.pipeline.check_resolutions()
        curves.point(final)

    def _move(
        self,
        books: ReplayBooks,
        curves: Curves,
        horizon: int,
        cursor: int,
        at: int,
        *,
        exact: bool = False,
    ) -> int:
        """Move the books to `at`, never before tape position `cursor` (exactly there
        when a copy arrives with no delay: its own fill is the last it sees); the curves
        take every price printed since the last move."""
        new = cursor if exact else self.tape.horizon(cursor, at)
        for position in range(horizon + 1, new + 1):
            fill = self.fills[position]
            curves.price(fill.token_id, fill.price)
        books.move(horizon=max(new, horizon), now_ms=at)
        return max(new, horizon)

    def _housekeeping_always(self) -> bool:
        """Exit rules and equity-based breakers or sizing need marks at regular times;
        otherwise housekeeping runs only while orders rest."""
        config = self.config
        exits = config.exits
        rules = any(
            value is not None
            for value in (
                exits.take_profit_pct,
                exits.stop_loss_pct,
                exits.trailing_stop_pct,
                exits.exit_before_resolution_minutes,
            )
        )
        risk = config.risk
        equity = risk.max_drawdown_pct is not None or risk.leader_max_drawdown_pct is not None
        equity = equity or any(
            leader.sizing.mode in (SizingMode.BANKROLL, SizingMode.EQUITY_PCT)
            for leader in config.leaders
        )
        return rules or equity

    @staticmethod
    async def _housekeeping(engine: Engine) -> None:
        try:
            await engine.housekeeping()
        except Exception as error:
            log.exception("backtest: housekeeping failed")
            engine.bus.publish(EngineError("housekeeping", str(error), engine.now_ms()))

    def _leader_side(self) -> tuple[Book, Curves]:
        """The leaders' own fills, at venue time, held to resolution."""
        book, curves = Book(), Curves()
        catalog = self.inputs.catalog
        events: list[tuple[int, int, LeaderFill | ConditionId]] = [
            (fill_ms(fill), 1, fill) for fill in self.fills
        ]
        events += [(t, 0, c) for c, t in self.resolves.items() if t is not None]
        for at, _, item in sorted(events, key=lambda e: (e[0], e[1])):
            if isinstance(item, LeaderFill):
                curves.price(item.token_id, item.price)
                trade = Trade.of_leader(item, condition_of(item, catalog), at)
                shares, notional = book.apply(trade)
                if shares:
                    curves.trade(
                        item.wallet,
                        item.token_id,
                        item.side,
                        shares=shares,
                        notional=notional,
                        fee=ZERO,
                    )
                curves.point(at)
            else:
                market = catalog.get(item)
                if market is not None and market.resolution is not None:
                    for outcome in market.outcomes:
                        payout = market.resolution.payout_per_share(outcome.index)
                        curves.settle(outcome.token_id, payout)
        return book, curves

    def _payouts(self) -> dict[TokenId, Decimal]:
        payouts: dict[TokenId, Decimal] = {}
        for condition, at in self.resolves.items():
            market = self.inputs.catalog.get(condition)
            if at is None or market is None or market.resolution is None:
                continue
            for outcome in market.outcomes:
                payouts[outcome.token_id] = market.resolution.payout_per_share(outcome.index)
        return payouts


async def replay(
    inputs: Inputs, settings: BacktestSettings, config: PolytailConfig | None = None
) -> Record:
    return await Replay(inputs, settings, config).run()


def run_backtest(
    inputs: Inputs, settings: BacktestSettings, config: PolytailConfig | None = None
) -> Record:
    """Run one backtest to completion (in its own event loop)."""
    return asyncio.run(replay(inputs, settings, config))

"""The fill pipeline: leader fill → market → book → decision → order → ledger → views.

One `Pipeline` per follower account. Its edges are injected (`MarketSource`,
`BookSource`, the broker inside the `OrderManager`, the clock), so live, paper, the
offline demo and backtests run exactly this code.

What it keeps, and where it survives a restart:

- the portfolio view the policy reads (`PortfolioView`), rebuilt from the ledger and the
  open orders at `start`, then updated incrementally by every order change and booked
  fill (the order manager calls `order_changed` / `trade_booked` synchronously);
- the accumulator of sub-minimum copies, and each leader's own position in the outcomes
  it trades (what proportional exits divide by), both written to `risk_state` in the
  transaction that records the decision;
- one decision per leader fill: a fill already decided (a re-delivery after a restart,
  a second feed) is dropped before anything else happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import structlog

from polytail.domain.book import OrderBook
from polytail.domain.decisions import Decision
from polytail.domain.fills import LeaderFill, Side
from polytail.domain.ids import AccountId, Address, ConditionId, TokenId
from polytail.domain.ledger import (
    Booking,
    Holding,
    MarketResolved,
    Redemption,
    TradeFill,
    utc_day,
)
from polytail.domain.market import Market
from polytail.domain.money import Price, Rounding, Shares, Usdc
from polytail.domain.orders import Order, OrderState
from polytail.engine.events import (
    Component,
    ComponentState,
    ComponentStatus,
    DecisionMade,
    EngineError,
    EventBus,
    FillSettling,
    OrderUpdated,
    Redeemed,
    TradeBooked,
)
from polytail.engine.events import MarketResolved as MarketResolvedEvent
from polytail.execution.broker import TradeSettling
from polytail.execution.order_manager import OrderManager
from polytail.policy import Policy
from polytail.policy.accumulator import Accumulator, Pending
from polytail.policy.intents import order_intent
from polytail.policy.views import LeaderStats, LeaderView, OpenBuy, OpenSell, PortfolioView, Quote
from polytail.portfolio.valuation import mark as value_at
from polytail.store import Store

log = structlog.get_logger(__name__)

ACCUMULATOR = "accumulator"
LEADER_POSITION = "leader_position"
REDEEMING = "redeeming"
HIGH_WATER = "high_water"
LEADER_SNAPSHOT = "leader_snapshot"


class MarketSource(Protocol):
    async def get(self, condition: ConditionId) -> Market: ...

    async def get_by_token(self, token: TokenId) -> Market: ...


class BookSource(Protocol):
    async def book(self, token: TokenId) -> OrderBook: ...


class LeaderSource(Protocol):
    """What the venue says a leader holds (Data API positions) and is worth (`/value`)."""

    async def positions(self, leader: Address) -> dict[TokenId, Shares]: ...

    async def value(self, leader: Address) -> Usdc: ...


class EngineClock(Protocol):
    def now_ms(self) -> int: ...

    def monotonic_ns(self) -> int: ...

    async def sleep(self, seconds: float) -> None: ...


@dataclass(frozen=True, slots=True)
class Handled:
    """What became of one leader fill (None order: a skip, or nothing was sent)."""

    decision: Decision
    order: Order | None


class Pipeline:
    def __init__(
        self,
        *,
        account: AccountId,
        policy: Policy,
        store: Store,
        orders: OrderManager,
        markets: MarketSource,
        books: BookSource,
        clock: EngineClock,
        bus: EventBus,
        redeem: bool = True,
        leaders: LeaderSource | None = None,
    ) -> None:
        self.account = account
        self.policy = policy
        self.store = store
        self.orders = orders
        self.markets = markets
        self.books = books
        self.clock = clock
        self.bus = bus
        self.redeem_enabled = redeem
        self.leaders = leaders
        self._snapshots: dict[Address, int] = {}  # leader -> positions snapshot time (ms)
        self._leader_values: dict[Address, tuple[Usdc, int]] = {}  # value, fetched at (ms)
        self.view = PortfolioView(account=account)
        self.pending = Accumulator()
        self._leader_positions: dict[tuple[Address, TokenId], Shares] = {}
        self._reserves: dict[str, Usdc] = {}  # open BUY order -> reserve still counted
        self._fees: dict[str, Usdc] = {}  # worst-case fee of an intent about to be written
        self._high_water: dict[TokenId, Price] = {}
        self._exit_skips: set[str] = set()
        self.kill_switch = False  # operator controls, kept across view rebuilds
        self.paused: frozenset[Address] = frozenset()
        self.marks: dict[TokenId, Price] = {}  # last marks of the positions held
        orders.listener = self

    # --- startup ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Reconcile every order a previous run left open, then build the views."""
        await self.orders.reconcile()
        self._load_state()

    def _load_state(self) -> None:
        now_ms = self.clock.now_ms()
        with self.store.read() as tx:
            entries = tx.risk.active(self.account, now_ms=now_ms)
            events = tx.ledger.events(self.account)
        pending = Accumulator()
        for entry in entries:
            if entry.scope == ACCUMULATOR:
                token, leader = entry.key.split("|")
                buy, sell, since, fills = (int(v) for v in entry.value.split(","))
                pending = pending.set(
                    TokenId(token), Address(leader), Pending(Usdc(buy), Shares(sell), since, fills)
                )
            elif entry.scope == LEADER_POSITION:
                wallet, token = entry.key.split("|")
                self._leader_positions[(Address(wallet), TokenId(token))] = Shares(int(entry.value))
            elif entry.scope == LEADER_SNAPSHOT:
                self._snapshots[Address(entry.key)] = int(entry.value)
            elif entry.scope == HIGH_WATER:
                self._high_water[TokenId(entry.key)] = Price(int(entry.value))
        self.pending = pending
        versions: dict[tuple[TokenId, Address], int] = {}
        for seq, event in enumerate(events, start=1):
            if isinstance(event, TradeFill):
                versions[(event.token_id, event.leader)] = seq
        self.view = self._build_view(versions, now_ms)

    def _build_view(
        self, versions: Mapping[tuple[TokenId, Address], int], now_ms: int
    ) -> PortfolioView:
        ledger = self.orders.ledger
        day = utc_day(now_ms)
        buys: list[OpenBuy] = []
        sells: list[OpenSell] = []
        for order in self.orders.open_orders():
            intent = order.intent
            leader = intent.leader or Address("unattributed")
            if intent.side is Side.BUY:
                reserve = self._open_reserve(order)
                self._reserves[intent.client_id] = reserve
                buys.append(OpenBuy(intent.token_id, intent.condition_id, leader, reserve))
            else:
                left = Shares(max(0, (intent.size - order.filled).units))
                sells.append(OpenSell(intent.token_id, leader, left))
        valuation = value_at(ledger, {}, now_ms)
        stats = {
            pnl.leader: LeaderStats(
                realized_today=ledger.daily_realized(day, pnl.leader),
                pnl=pnl.realized_pnl,
                peak_pnl=pnl.peak_pnl,
            )
            for pnl in ledger.leaders()
        }
        held = {(token, leader) for (token, leader) in versions}
        return PortfolioView.build(
            account=self.account,
            cash=ledger.cash,
            equity=valuation.equity,
            peak_equity=ledger.totals.peak_equity,
            day=day,
            realized_today=ledger.daily_realized(day),
            positions=[holding.position for holding in ledger.holdings()],
            open_buys=buys,
            open_sells=sells,
            leaders=stats,
            lot_versions={key: versions[key] for key in held if ledger.held_for(*key).units},
            kill_switch=self.kill_switch,
            paused_leaders=self.paused,
        )

    def set_controls(
        self, *, kill_switch: bool | None = None, paused: Iterable[Address] | None = None
    ) -> None:
        """The operator's controls the policy reads: the kill switch (no new order, exits
        included) and the paused leaders (no new positions; their exits still follow)."""
        if kill_switch is not None:
            self.kill_switch = kill_switch
        if paused is not None:
            self.paused = frozenset(paused)
        self.view = self.view.with_controls(
            kill_switch=self.kill_switch, paused_leaders=self.paused
        )

    @staticmethod
    def _open_reserve(order: Order) -> Usdc:
        """What an open BUY still reserves: its unspent notional (the fee is re-estimated
        from the notional at the worst price, which is what the policy counted)."""
        return Usdc(max(0, (order.intent.max_spend - order.filled_notional).units))

    # --- leader fills ---------------------------------------------------------------------
    def already_decided(self, fill: LeaderFill) -> bool:
        with self.store.read() as tx:
            return tx.decisions.decided(self.account, fill.fill_id)

    async def handle(self, fill: LeaderFill) -> Handled | None:
        """Decide one leader fill and, for a copy, send its order. None: decided before."""
        if self.already_decided(fill):
            return None
        now_ms = self.clock.now_ms()
        market = await self._market(fill)
        book = await self._book(fill.token_id) if market is not None else None
        quote = None if market is None else Quote(market, book)
        key = (fill.wallet, fill.token_id)
        before, after = self._leader_position(fill)
        value = self._leader_values.get(fill.wallet)
        leader_view = LeaderView(
            position_before=before, portfolio_value=None if value is None else value[0]
        )
        if fill.side is Side.SELL:
            await self._cancel_open_buys(fill.wallet, fill.token_id)
        decision, pending = self.policy.decide(
            fill, quote, self.view, leader_view, now_ms=now_ms, pending=self.pending
        )
        self.bus.publish(DecisionMade(decision))
        order: Order | None = None
        if decision.is_copy and market is not None:
            intent = order_intent(decision)
            self._fees[intent.client_id] = decision.fee
            order = self.orders.open_intent(decision, intent)
            self._fees.pop(intent.client_id, None)
            self._save_state(fill, after, pending, now_ms, decision=None)
            if order is not None:
                order = await self.orders.send(order, market)
        else:
            self._save_state(fill, after, pending, now_ms, decision=decision)
        self.pending = pending
        if after is not None:
            self._leader_positions[key] = after
        return Handled(decision, order)

    def _leader_position(self, fill: LeaderFill) -> tuple[Shares | None, Shares | None]:
        """The leader's holding of the fill's outcome before it, and what to track after it.

        Seeded from a Data API snapshot (`watch_leader`), then moved by each fill seen.
        A fill at or before the snapshot's time is taken to be *in* the snapshot already:
        its "before" is reconstructed by undoing it (a sale: snapshot + sold) and the
        tracked position does not move, so nothing is counted twice. A later fill moves
        it. Without a snapshot the position is known only from fills seen (None until
        the first BUY: a SELL then is treated as a full exit by the policy).
        """
        key = (fill.wallet, fill.token_id)
        as_of = self._snapshots.get(fill.wallet)
        tracked = self._leader_positions.get(key)
        if tracked is None and as_of is not None:
            tracked = Shares(0)  # absent from the snapshot: the leader held none
        if as_of is not None and fill.timestamp * 1000 <= as_of:
            assert tracked is not None
            if fill.side is Side.BUY:
                return Shares(max(0, (tracked - fill.size).units)), None
            return tracked + fill.size, None
        if fill.side is Side.BUY:
            return tracked, (tracked or Shares(0)) + fill.size
        if tracked is None:
            return None, None
        return tracked, Shares(max(0, (tracked - fill.size).units))

    async def watch_leader(self, leader: Address, *, value: bool = False) -> bool:
        """Seed the leader's positions (and, for bankroll sizing, its portfolio value) from
        the Data API: at start and when a leader is added. False when the venue did not
        answer; the positions tracked so far stay, and the error is published."""
        if self.leaders is None:
            return False
        now_ms = self.clock.now_ms()
        try:
            held = await self.leaders.positions(leader)
            worth = await self.leaders.value(leader) if value else None
        except Exception as error:
            log.warning("leader snapshot failed", leader=leader, error=str(error))
            message = f"leader {leader}: positions unavailable ({error}); tracking from fills"
            self.bus.publish(EngineError(Component.PIPELINE, message, now_ms))
            return False
        stale = [k for k in self._leader_positions if k[0] == leader and k[1] not in held]
        with self.store.transaction() as tx:
            for wallet, token in stale:
                tx.risk.clear(self.account, LEADER_POSITION, f"{wallet}|{token}")
            for token, shares in held.items():
                entry = f"{leader}|{token}"
                tx.risk.put(self.account, LEADER_POSITION, entry, str(shares.units), at_ms=now_ms)
            tx.risk.put(self.account, LEADER_SNAPSHOT, leader, str(now_ms), at_ms=now_ms)
        for gone in stale:
            del self._leader_positions[gone]
        for token, shares in held.items():
            self._leader_positions[(leader, token)] = shares
        self._snapshots[leader] = now_ms
        if worth is not None:
            self._leader_values[leader] = (worth, now_ms)
        return True

    async def refresh_leader_values(self, leaders: Iterable[Address], max_age_ms: int) -> None:
        """Re-read the portfolio value of leaders whose value is older than `max_age_ms`."""
        if self.leaders is None:
            return
        now_ms = self.clock.now_ms()
        for leader in leaders:
            known = self._leader_values.get(leader)
            if known is not None and now_ms - known[1] < max_age_ms:
                continue
            try:
                self._leader_values[leader] = (await self.leaders.value(leader), now_ms)
            except Exception as error:  # the last value stays; bankroll copies use it
                log.warning("leader value failed", leader=leader, error=str(error))

    def _save_state(
        self,
        fill: LeaderFill,
        leader_after: Shares | None,
        pending: Accumulator,
        now_ms: int,
        *,
        decision: Decision | None,
    ) -> None:
        """The skip's decision (a copy's was written with its intent), the leader's position
        and the accumulator entries that changed, in one transaction."""
        with self.store.transaction() as tx:
            if decision is not None:
                tx.decisions.record(decision)
            if leader_after is not None:
                tx.risk.put(
                    self.account,
                    LEADER_POSITION,
                    f"{fill.wallet}|{fill.token_id}",
                    str(leader_after.units),
                    at_ms=now_ms,
                )
            for token, leader in _changed(self.pending, pending):
                entry = pending.get(token, leader)
                key = f"{token}|{leader}"
                if entry is None:
                    tx.risk.clear(self.account, ACCUMULATOR, key)
                else:
                    value = f"{entry.buy.units},{entry.sell.units},{entry.since_ms},{entry.fills}"
                    tx.risk.put(self.account, ACCUMULATOR, key, value, at_ms=now_ms)

    async def _market(self, fill: LeaderFill) -> Market | None:
        try:
            if fill.condition_id is not None:
                return await self.markets.get(fill.condition_id)
            return await self.markets.get_by_token(fill.token_id)
        except Exception as error:  # unknown market: the policy skips with market_unknown
            log.warning("market lookup failed", token=fill.token_id, error=str(error))
            return None

    async def _book(self, token: TokenId) -> OrderBook | None:
        try:
            return await self.books.book(token)
        except Exception as error:  # no book: the policy skips with book_unavailable
            log.warning("book lookup failed", token=token, error=str(error))
            return None

    async def _cancel_open_buys(self, leader: Address, token: TokenId) -> None:
        """A leader leaving an outcome: our resting buys copying it there are cancelled."""
        for order in self.orders.open_orders():
            intent = order.intent
            if intent.side is Side.BUY and intent.leader == leader and intent.token_id == token:
                await self.orders.cancel(order, source="leader_exit")

    # --- exits, marks, resolution ---------------------------------------------------------
    async def check_exits(self, tokens: Iterable[TokenId] | None = None) -> list[Handled]:
        """Evaluate the exit rules on the positions held (or `tokens`), at the book's bid."""
        handled: list[Handled] = []
        now_ms = self.clock.now_ms()
        self._forget_high_water()
        for token in list(tokens if tokens is not None else self.view.positions.keys()):
            position = self.view.positions.get(token)
            if position is None:
                continue
            try:
                market = await self.markets.get(position.condition_id)
            except Exception as error:
                log.warning("market lookup failed", token=token, error=str(error))
                continue
            book = await self._book(token)
            if book is None or book.best_bid is None:
                continue
            mark = book.best_bid
            high = self._high_water.get(token)
            if high is None or mark > high:  # persisted: a restart keeps trailing stops
                self._high_water[token] = mark
                with self.store.transaction() as tx:
                    tx.risk.put(self.account, HIGH_WATER, token, str(mark.micros), at_ms=now_ms)
            decisions = self.policy.exit_rules(
                token=token,
                quote=Quote(market, book),
                portfolio=self.view,
                mark=mark,
                high_water=self._high_water[token],
                now_ms=now_ms,
            )
            for decision in decisions:
                if not decision.is_copy:
                    if decision.intent_key in self._exit_skips:
                        continue
                    self._exit_skips.add(decision.intent_key)
                    with self.store.transaction() as tx:
                        tx.decisions.record(decision)
                    self.bus.publish(DecisionMade(decision))
                    handled.append(Handled(decision, None))
                    continue
                intent = order_intent(decision)
                order = self.orders.open_intent(decision, intent)
                if order is not None:
                    self.bus.publish(DecisionMade(decision))
                    order = await self.orders.send(order, market)
                handled.append(Handled(decision, order))
        return handled

    def _forget_high_water(self) -> None:
        """A position that closed takes its high-water mark with it (a new one starts over)."""
        gone = [token for token in self._high_water if token not in self.view.positions]
        if not gone:
            return
        with self.store.transaction() as tx:
            for token in gone:
                del self._high_water[token]
                tx.risk.clear(self.account, HIGH_WATER, token)

    async def check_resolutions(self) -> list[ConditionId]:
        """Book resolutions of markets we hold, then redeem their claims exactly once."""
        ledger_conditions = {h.condition_id for h in self.orders.ledger.holdings()}
        resolved: list[ConditionId] = []
        for condition in sorted(ledger_conditions):
            try:
                market = await self.markets.get(condition)
            except Exception as error:
                log.warning("market lookup failed", condition=condition, error=str(error))
                continue
            if market.resolution is None:
                continue
            now_ms = self.clock.now_ms()
            if self.orders.ledger.resolution(condition) is None:
                event = MarketResolved(self.account, condition, market.resolution, now_ms)
                self.orders.ledger.apply(event, persist=self.store.record)
                self.bus.publish(
                    MarketResolvedEvent(condition, market.resolution, market.question, now_ms)
                )
                resolved.append(condition)
            if self.redeem_enabled:
                await self.redeem(market)
        return resolved

    async def redeem(self, market: Market) -> Booking | None:
        """Redeem the market's claims and book the payout once.

        A marker is written before the broker is called. The broker sends only for shares
        the wallet still holds (the chain pays each share once, so asking again is
        harmless) and reports what it held before. When a marker is found (a run died
        after calling the broker), claims the ledger still counts but the wallet no longer
        held were redeemed by that run: they are booked at their claim value, together
        with whatever this call paid. A failure leaves the marker; the next pass looks
        again. The ledger books one redemption per position, so a second report of the
        same claim (any report id) books nothing.
        """
        ledger = self.orders.ledger
        condition = market.condition_id
        claims = [h for h in ledger.redeemable() if h.condition_id == condition]
        if not claims:
            return None
        now_ms = self.clock.now_ms()
        with self.store.read() as tx:
            marker = tx.risk.get(self.account, REDEEMING, condition)
        if marker is None:
            with self.store.transaction() as tx:
                tx.risk.put(self.account, REDEEMING, condition, str(now_ms), at_ms=now_ms)
        try:
            report = await self.orders.broker.redeem(market, claims)
        except Exception as error:  # the marker stays: the next pass asks the venue again
            log.warning("redemption failed", condition=condition, error=str(error))
            self.bus.publish(EngineError(Component.REDEMPTION, str(error), now_ms))
            return None
        payout, report_id = report.payout, report.report_id
        if marker is not None:
            earlier = _redeemed_before(claims, report.held_before)
            if earlier.is_positive:
                payout += earlier
                report_id = f"{report_id}+recovered:{marker.value}"
        event = Redemption(self.account, condition, None, payout, report_id, now_ms)
        booking = ledger.apply(event, persist=self.store.record)
        with self.store.transaction() as tx:
            tx.risk.clear(self.account, REDEEMING, condition)
        if booking is None:
            return None
        for token, paid in booking.allocations.items():
            self.view = self.view.redeemed(token=token, payout=paid, now_ms=now_ms)
        realized = Usdc(sum(v.units for v in booking.realized.values()))
        self.bus.publish(Redeemed(self.account, condition, payout, realized, now_ms))
        return booking

    def refresh_marks(self, marks: Mapping[TokenId, Price]) -> None:
        """New marks: equity and leader PnL into the view; new peaks persisted."""
        now_ms = self.clock.now_ms()
        ledger = self.orders.ledger
        self.marks = dict(marks)
        valuation = value_at(ledger, marks, now_ms)
        leader_pnl = {leader: v.pnl for leader, v in valuation.leaders.items()}
        self.view = self.view.marked(equity=valuation.equity, leader_pnl=leader_pnl)
        with self.store.transaction() as tx:
            tx.ledger.save_peaks(
                self.account,
                ledger.totals.peak_equity,
                {pnl.leader: pnl.peak_pnl for pnl in ledger.leaders()},
                at_ms=now_ms,
            )

    # --- OrderListener: the order manager tells us every change ------------------------------
    def order_changed(self, order: Order, previous: OrderState | None, source: str) -> None:
        intent = order.intent
        leader = intent.leader or Address("unattributed")
        if previous is None:
            if intent.side is Side.BUY:
                reserve = intent.max_spend + self._fees.get(intent.client_id, Usdc(0))
                self._reserves[intent.client_id] = reserve
                self.view = self.view.buy_order_opened(
                    token=intent.token_id,
                    condition=intent.condition_id,
                    leader=leader,
                    reserve=reserve,
                )
            else:
                self.view = self.view.sell_order_opened(
                    token=intent.token_id, leader=leader, shares=intent.size
                )
        elif order.state.is_terminal and not previous.is_terminal:
            if intent.side is Side.BUY:
                left = self._reserves.pop(intent.client_id, Usdc(0))
                self.view = self.view.buy_order_released(
                    token=intent.token_id,
                    condition=intent.condition_id,
                    leader=leader,
                    reserve=left,
                    closed=True,
                )
            else:
                selling = self.view.selling.get((intent.token_id, leader), Shares(0))
                unfilled = Shares(max(0, (intent.size - order.filled).units)).min(selling)
                self.view = self.view.sell_order_released(
                    token=intent.token_id, leader=leader, shares=unfilled, closed=True
                )
        self.bus.publish(OrderUpdated(order, previous))

    def trade_booked(self, order: Order, fill: TradeFill, booking: Booking) -> None:
        intent = order.intent
        if fill.side is Side.BUY:
            left = self._reserves.get(intent.client_id, Usdc(0))
            release = left.min(fill.notional + fill.fee)
            if intent.client_id in self._reserves:
                self._reserves[intent.client_id] = left - release
            self.view = self.view.buy_order_released(
                token=fill.token_id,
                condition=fill.condition_id,
                leader=fill.leader,
                reserve=release,
                closed=False,
            )
            self.view = self.view.bought(
                token=fill.token_id,
                condition=fill.condition_id,
                outcome_index=fill.outcome_index,
                leader=fill.leader,
                shares=fill.shares,
                notional=fill.notional,
                fee=fill.fee,
                seq=booking.seq,
            )
        else:
            selling = self.view.selling.get((fill.token_id, fill.leader), Shares(0))
            self.view = self.view.sell_order_released(
                token=fill.token_id,
                leader=fill.leader,
                shares=fill.shares.min(selling),
                closed=False,
            )
            self.view = self.view.sold(
                token=fill.token_id,
                leader=fill.leader,
                shares=fill.shares,
                proceeds=fill.notional,
                fee=fill.fee,
                now_ms=fill.at_ms,
                seq=booking.seq,
            )
        self.bus.publish(
            TradeBooked(
                account=self.account,
                client_id=intent.client_id,
                trade_id=fill.trade_id,
                token_id=fill.token_id,
                side=fill.side,
                shares=fill.shares,
                price=fill.price,
                notional=fill.notional,
                fee=fill.fee,
                leader=intent.leader,
                at_ms=fill.at_ms,
            )
        )

    def fill_settling(self, order: Order, report: TradeSettling) -> None:
        event = FillSettling(
            self.account,
            order.intent.client_id,
            report.trade_id,
            report.status,
            report.shares,
            self.clock.now_ms(),
        )
        self.bus.publish(event)

    def reconciliation(self, ready: bool, detail: str) -> None:
        state = ComponentState.READY if ready else ComponentState.STARTING
        now_ms = self.clock.now_ms()
        self.bus.publish(ComponentStatus(Component.RECONCILIATION, state, detail, now_ms))

    def broker_health(self, ready: bool, detail: str) -> None:
        state = ComponentState.READY if ready else ComponentState.DEGRADED
        now_ms = self.clock.now_ms()
        self.bus.publish(ComponentStatus(Component.BROKER, state, detail, now_ms))


def _redeemed_before(claims: Iterable[Holding], held: Mapping[TokenId, Shares]) -> Usdc:
    """The claim value of shares the ledger counts but the wallet no longer held."""
    total = 0
    for claim in claims:
        gone = claim.position.shares - held.get(claim.token_id, claim.position.shares)
        if gone.is_positive and claim.payout_per_share is not None:
            total += gone.scale_by(claim.payout_per_share, Rounding.DOWN).units
    return Usdc(total)


def _changed(before: Accumulator, after: Accumulator) -> set[tuple[TokenId, Address]]:
    keys = {key for key, _ in before.items()} | {key for key, _ in after.items()}
    return {key for key in keys if before.get(*key) != after.get(*key)}

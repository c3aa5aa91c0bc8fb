"""The order manager: an intent becomes at most one order, and every fill of it is booked once.

The lifecycle, and what is durable at each step:

1. `execute` writes the decision and the intent as PENDING in one transaction, under the
   unique (account, intent key). A second `execute` of the same intent (a retry, a
   restart, a duplicate sighting) finds it and sends nothing.
2. The broker signs the order; its venue id (the EIP-712 hash) is written with the
   move to SENT *before* the order leaves, so after a crash it can be looked up by id.
3. The reply drives the state machine: fills are booked one trade at a time, each in
   the same transaction as the order's progress; then LIVE, PARTIAL, MATCHED, CANCELED
   or REJECTED. A reply that never came (timeout, broken connection) makes the order
   UNKNOWN: it is never sent again; reconciliation asks the venue what became of it.
4. Resting orders are followed by broker reports (user channel, paper book crossings)
   and by polling (`poll`), cancelled at their time limit, and closed only when every
   fill the venue reports is booked.

Retries that can never send twice: the only resend is inside the venue adapter, after a
reply that proves the order was not taken (429, 425, a connection never made). Anything
else ends the intent: a missed copy is recoverable, a double copy costs money.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Protocol

import structlog

from polytail.domain.clock import Clock
from polytail.domain.decisions import Decision
from polytail.domain.ids import AccountId, ClientOrderId
from polytail.domain.ledger import Booking, TradeFill
from polytail.domain.market import Market
from polytail.domain.orders import Order, OrderIntent, OrderState
from polytail.domain.positions import UNATTRIBUTED
from polytail.execution.broker import (
    Broker,
    BrokerReport,
    OrderReport,
    StreamGap,
    TradeReport,
    TradeSettling,
)
from polytail.portfolio.ledger import Ledger
from polytail.store import Store
from polytail.store.errors import DuplicateEvent, StaleLedger, StaleOrder
from polytail.venue.errors import (
    EngineRestarting,
    NotFilled,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
    TransportFailure,
    VenueError,
)

log = structlog.get_logger(__name__)

OPEN_STATES = (
    OrderState.PENDING,
    OrderState.SENT,
    OrderState.LIVE,
    OrderState.PARTIAL,
    OrderState.UNKNOWN,
)

MarketOf = Callable[[OrderIntent], Awaitable[Market]]


class OrderListener(Protocol):
    """Told of every order change, booked and settling fill, and of the health of the
    broker and of reconciliation, synchronously (the engine's views and its event bus
    listen here)."""

    def order_changed(self, order: Order, previous: OrderState | None, source: str) -> None: ...

    def trade_booked(self, order: Order, fill: TradeFill, booking: Booking) -> None: ...

    def fill_settling(self, order: Order, report: TradeSettling) -> None: ...

    def reconciliation(self, ready: bool, detail: str) -> None: ...

    def broker_health(self, ready: bool, detail: str) -> None: ...


class _Silent:
    def order_changed(self, order: Order, previous: OrderState | None, source: str) -> None:
        return None

    def trade_booked(self, order: Order, fill: TradeFill, booking: Booking) -> None:
        return None

    def fill_settling(self, order: Order, report: TradeSettling) -> None:
        return None

    def reconciliation(self, ready: bool, detail: str) -> None:
        return None

    def broker_health(self, ready: bool, detail: str) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ReconcileSummary:
    checked: int
    not_sent: int
    closed: int
    still_open: int
    trades_booked: int
    foreign_trades: int


class OrderManager:
    """Owns the account's orders. Call it from one task: the engine's event loop."""

    def __init__(
        self,
        *,
        account: AccountId,
        store: Store,
        broker: Broker,
        ledger: Ledger,
        market_of: MarketOf,
        clock: Clock,
        listener: OrderListener | None = None,
        reply_timeout_s: float = 15.0,
        reconcile_window_s: int = 86_400,
    ) -> None:
        self.account = account
        self.store = store
        self.broker = broker
        self.ledger = ledger
        self._market_of = market_of
        self.clock = clock
        self.listener: OrderListener = listener or _Silent()
        self.reply_timeout_s = reply_timeout_s
        self.reconcile_window_s = reconcile_window_s
        self._broker_ok = True

    # --- sending ----------------------------------------------------------------------------
    def open_intent(self, decision: Decision, intent: OrderIntent) -> Order | None:
        """Write the decision and the PENDING intent in one transaction; None if it exists."""
        with self.store.transaction() as tx:
            if not tx.orders.create_intent(intent):
                return None
            tx.decisions.record(decision)
        order = Order(intent=intent, updated_at_ms=intent.created_at_ms)
        self.listener.order_changed(order, None, "intent")
        return order

    async def send(self, order: Order, market: Market) -> Order:
        """Sign, record the venue id, post, and apply the reply. Never sends twice."""
        intent = order.intent
        try:
            prepared = await self.broker.prepare(intent, market)
        except (VenueError, ValueError) as error:
            return self._move(order, OrderState.REJECTED, "sign", error=str(error))
        order = self._move(order, OrderState.SENT, "send", venue_order_id=prepared.venue_order_id)
        try:
            async with asyncio.timeout(self.reply_timeout_s):
                report = await self.broker.submit(prepared, market)
        except NotFilled as error:
            return self._move(order, OrderState.CANCELED, "reply", error=str(error))
        except OrderRejected as error:
            return self._move(order, OrderState.REJECTED, "reply", error=str(error))
        except (EngineRestarting, RateLimited) as error:
            # The venue refused to take it (retries inside the adapter ran out): not sent.
            return self._move(order, OrderState.CANCELED, "reply", error=f"not taken: {error}")
        except TransportFailure as error:
            if not error.maybe_sent:
                return self._move(order, OrderState.CANCELED, "reply", error=f"not sent: {error}")
            return self._move(order, OrderState.UNKNOWN, "reply", error=str(error))
        except (OrderOutcomeUnknown, VenueError, TimeoutError) as error:
            return self._move(
                order, OrderState.UNKNOWN, "reply", error=str(error) or "no reply in time"
            )
        return await self.apply(order, report, market, source="reply")

    # --- applying what the venue says ------------------------------------------------------
    async def apply(
        self, order: Order, report: OrderReport, market: Market, *, source: str
    ) -> Order:
        """Book the report's unbooked trades, then move to the state it describes.

        An order ends (MATCHED, CANCELED) only when what is booked covers what the venue
        says filled; otherwise it stays open (UNKNOWN when it was not resting) and the
        next poll or reconciliation fetches the missing trades.
        """
        for trade in report.trades:
            if trade.venue_order_id == order.venue_order_id:
                order = self.book(order, trade, market, source=source)
        target = report.state
        expected = report.filled - report.failed  # a failed trade was reversed: not a fill
        if report.failed.is_positive and target is OrderState.MATCHED:
            target = (
                OrderState.MATCHED if order.filled >= order.intent.size else OrderState.CANCELED
            )
        if order.filled < expected and target.is_terminal:
            target = OrderState.UNKNOWN  # ended at the venue, but fills are still to book
        if target in (OrderState.LIVE, OrderState.PARTIAL):  # resting: by what is booked
            target = OrderState.PARTIAL if order.filled.units else OrderState.LIVE
        if target is order.state and target is not OrderState.UNKNOWN:
            return order
        if target is OrderState.UNKNOWN and order.state is OrderState.UNKNOWN:
            return order
        return self._move(order, target, source)

    def book(self, order: Order, trade: TradeReport, market: Market, *, source: str) -> Order:
        """Book one fill of `order` into the ledger and the order row, in one transaction."""
        if self.ledger.has_trade(trade.trade_id):
            return order
        intent = order.intent
        fill = TradeFill(
            account=self.account,
            trade_id=trade.trade_id,
            side=trade.side,
            token_id=trade.token_id,
            condition_id=intent.condition_id,
            outcome_index=market.outcome_for(trade.token_id).index,
            leader=intent.leader or UNATTRIBUTED,
            shares=trade.shares,
            price=trade.price,
            notional=trade.notional,
            fee=trade.fee,
            at_ms=trade.at_ms,
            client_id=intent.client_id,
            venue_order_id=trade.venue_order_id,
        )
        for _ in range(3):
            progressed = self._progress(order, trade)

            def persist(booking: Booking, before: Order = order, after: Order = progressed) -> None:
                with self.store.transaction() as tx:
                    tx.ledger.record(booking)
                    if after is not before:
                        tx.orders.transition(before, after, source=source, detail=trade.trade_id)

            try:
                booking = self.ledger.apply(fill, persist=persist)
            except (DuplicateEvent, StaleLedger):
                self._reload_ledger()
                continue
            except StaleOrder:
                order = self._reload(order)
                continue
            if booking is None:
                return order
            if progressed is not order:
                self.listener.order_changed(progressed, order.state, source)
            self.listener.trade_booked(progressed, fill, booking)
            return progressed
        raise RuntimeError(f"order {order.client_id}: could not book trade {trade.trade_id}")

    def _progress(self, order: Order, trade: TradeReport) -> Order:
        """The order after one more fill (unchanged when it has already ended)."""
        if order.state.is_terminal:
            log.warning(
                "fill of an order that had ended",
                client_id=order.client_id,
                trade_id=trade.trade_id,
            )
            return order
        return order.to(
            OrderState.PARTIAL,
            at_ms=self.clock.now_ms(),
            filled=order.filled + trade.shares,
            filled_notional=order.filled_notional + trade.notional,
            fees=order.fees + trade.fee,
        )

    def _move(self, order: Order, state: OrderState, source: str, **changes: object) -> Order:
        after = order.to(state, at_ms=self.clock.now_ms(), **changes)
        with self.store.transaction() as tx:
            tx.orders.transition(order, after, source=source, detail=str(changes.get("error", "")))
        self.listener.order_changed(after, order.state, source)
        return after

    def _reload(self, order: Order) -> Order:
        with self.store.read() as tx:
            current = tx.orders.get(order.client_id)
        if current is None:
            raise RuntimeError(f"order {order.client_id} vanished from the store")
        return current

    def _reload_ledger(self) -> None:
        with self.store.read() as tx:
            snapshot = tx.ledger.load(self.account)
        self.ledger = Ledger.restore(snapshot)

    # --- following open orders -----------------------------------------------------------
    def open_orders(self) -> list[Order]:
        with self.store.read() as tx:
            return tx.orders.in_states(self.account, OPEN_STATES)

    def _by_venue_id(self, venue_order_id: str) -> Order | None:
        with self.store.read() as tx:
            return tx.orders.by_venue_id(venue_order_id)

    async def on_report(self, report: BrokerReport) -> None:
        """A report from the broker's stream (user channel, paper book crossings)."""
        if isinstance(report, TradeReport):
            await self.on_trade(report)
        elif isinstance(report, StreamGap):
            # Events may have been missed while the stream was down: ask about every order.
            log.info("broker stream gap: looking up open orders", detail=report.detail)
            await self.poll(source="stream_gap")
            self.listener.broker_health(True, report.detail)
        else:
            order = self._by_venue_id(report.venue_order_id)
            if order is None:
                return  # not ours (or not sent by polytail): nothing to follow
            if isinstance(report, TradeSettling):
                self.listener.fill_settling(order, report)
                if report.status != "FAILED":
                    return  # booked when final; the order stays open meanwhile
            elif report.kind == "PLACEMENT":
                return  # we know: it was recorded before it was sent
            if order.state in OPEN_STATES and order.venue_order_id is not None:
                await self.refresh(order, source="stream")

    async def on_trade(self, trade: TradeReport) -> None:
        """A final fill reported by the broker's stream: booked to its order, once."""
        order = self._by_venue_id(trade.venue_order_id)
        if order is None:
            log.warning("fill of an order polytail did not send", trade_id=trade.trade_id)
            return
        market = await self._market_of(order.intent)
        updated = self.book(order, trade, market, source="stream")
        if updated.state is OrderState.PARTIAL and updated.filled >= updated.intent.size:
            self._move(updated, OrderState.MATCHED, "stream")

    async def refresh(self, order: Order, *, source: str) -> Order:
        """Look the order up at the venue and apply what it says (never taken: closed)."""
        assert order.venue_order_id is not None
        market = await self._market_of(order.intent)
        report = await self.broker.lookup(order.venue_order_id, market)
        if report is None:
            if order.state in (OrderState.SENT, OrderState.UNKNOWN):
                return self._move(
                    order, OrderState.CANCELED, source, error="the venue never took it"
                )
            return order
        return await self.apply(order, report, market, source=source)

    async def cancel(self, order: Order, *, source: str) -> Order:
        """Cancel a resting order and settle it from the venue's answer."""
        if order.state not in (OrderState.LIVE, OrderState.PARTIAL) or not order.venue_order_id:
            return order
        await self.broker.cancel(order.venue_order_id)
        return await self.refresh(order, source=source)

    async def poll(self, *, source: str = "poll") -> None:
        """Ask the venue about every open order; cancel the ones past their time limit.

        One order's failure (a timeout, a 5xx) does not stop the others: it is reported as
        the broker being degraded, and the next poll asks again.
        """
        now_s = self.clock.now_ms() // 1000
        failures: list[str] = []
        for order in self.open_orders():
            if order.state is OrderState.PENDING or order.venue_order_id is None:
                continue
            expires = order.intent.expires_at
            resting = order.state in (OrderState.LIVE, OrderState.PARTIAL)
            try:
                if resting and expires is not None and expires <= now_s:
                    await self.cancel(order, source=source)
                else:
                    await self.refresh(order, source=source)
            except VenueError as error:
                failures.append(f"{order.client_id}: {error}")
        if failures:
            log.warning("order polling failed", failures=failures)
            self.listener.broker_health(False, f"polling failed for {len(failures)} order(s)")
            self._broker_ok = False
        elif not self._broker_ok:
            self.listener.broker_health(True, "polling answers again")
            self._broker_ok = True

    async def cancel_all(self) -> int:
        """Cancel every resting order (shutdown with `on_shutdown = "cancel"`)."""
        count = 0
        for order in self.open_orders():
            if order.state in (OrderState.LIVE, OrderState.PARTIAL) and order.venue_order_id:
                settled = await self.cancel(order, source="shutdown")
                count += settled.state is OrderState.CANCELED
        return count

    def find(self, client_id: ClientOrderId) -> Order | None:
        with self.store.read() as tx:
            return tx.orders.get(client_id)

    # --- startup -------------------------------------------------------------------------------
    async def reconcile(self) -> ReconcileSummary:
        """Before any new order: settle every order a previous run left open.

        - PENDING: never handed to the venue (the venue id is written before sending),
          so it is closed as not sent, and not resent.
        - SENT, UNKNOWN, LIVE, PARTIAL: looked up by venue id; fills found are booked
          once; an order the venue never took is closed.
        - Then the account's own trades in `reconcile_window_s` are matched to our orders
          by venue id, so a fill the order lookup missed is booked too.
        """
        self.listener.reconciliation(False, "reconciling open orders")
        checked = not_sent = closed = still_open = booked = foreign = 0
        for order in self.open_orders():
            checked += 1
            if order.state is OrderState.PENDING or order.venue_order_id is None:
                self._move(
                    order, OrderState.CANCELED, "reconcile", error="not sent before a restart"
                )
                not_sent += 1
                continue
            market = await self._market_of(order.intent)
            report = await self.broker.lookup(order.venue_order_id, market)
            if report is None:
                self._move(order, OrderState.CANCELED, "reconcile", error="the venue never took it")
                not_sent += 1
                continue
            before = self.ledger.seq
            settled = await self.apply(order, report, market, source="reconcile")
            booked += self.ledger.seq - before
            if settled.state.is_terminal:
                closed += 1
            else:
                still_open += 1
        after_s = self.clock.now_ms() // 1000 - self.reconcile_window_s
        for trade in await self.broker.trades_since(after_s):
            if self.ledger.has_trade(trade.trade_id):
                continue
            with self.store.read() as tx:
                owner = tx.orders.by_venue_id(trade.venue_order_id)
            if owner is None:
                foreign += 1
                continue
            market = await self._market_of(owner.intent)
            before = self.ledger.seq
            self.book(owner, trade, market, source="reconcile")
            booked += self.ledger.seq - before
        summary = ReconcileSummary(checked, not_sent, closed, still_open, booked, foreign)
        log.info("reconciliation done", **asdict(summary))
        self.listener.reconciliation(
            True,
            f"{checked} orders checked, {not_sent} not sent, {booked} fills booked"
            + (f", {foreign} trades of orders polytail did not send" if foreign else ""),
        )
        self.listener.broker_health(True, f"{self.broker.name} broker answering")
        return summary

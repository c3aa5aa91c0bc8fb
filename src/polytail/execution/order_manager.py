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
from polytail.execution.broker import Broker, OrderReport, TradeReport
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
    """Told of every order change and booked fill, synchronously (the engine's views and
    its event bus listen here)."""

    def order_changed(self, order: Order, previous: OrderState | None, source: str) -> None: ...

    def trade_booked(self, order: Order, fill: TradeFill, booking: Booking) -> None: ...

    def status(self, ready: bool, detail: str) -> None: ...


class _Silent:
    def order_changed(self, order: Order, previous: OrderState | None, source: str) -> None:
        return None

    def trade_booked(self, order: Order, fill: TradeFill, booking: Booking) -> None:
        return None

    def status(self, ready: bool, detail: str) -> None:
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
        if order.filled < report.filled:
            if target.is_terminal:
                target = OrderState.UNKNOWN
            elif target is OrderState.LIVE:
                target = OrderState.PARTIAL if order.filled.units else OrderState.LIVE
        elif target is OrderState.PARTIAL and order.filled.units == 0:
            target = OrderState.LIVE
        if target is OrderState.LIVE and order.filled.units:
            target = OrderState.PARTIAL
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

    async def on_trade(self, trade: TradeReport) -> None:
        """A fill reported by the broker's stream: booked to its order, once."""
        with self.store.read() as tx:
            order = tx.orders.by_venue_id(trade.venue_order_id)
        if order is None:
            log.warning("fill of an order polytail did not send", trade_id=trade.trade_id)
            return
        market = await self._market_of(order.intent)
        updated = self.book(order, trade, market, source="stream")
        if updated.state is OrderState.PARTIAL and updated.filled >= updated.intent.size:
            self._move(updated, OrderState.MATCHED, "stream")

    async def poll(self) -> None:
        """Ask the venue about every open order; cancel the ones past their time limit."""
        now_s = self.clock.now_ms() // 1000
        for order in self.open_orders():
            if order.state is OrderState.PENDING or order.venue_order_id is None:
                continue
            market = await self._market_of(order.intent)
            expires = order.intent.expires_at
            if (
                expires is not None
                and expires <= now_s
                and order.state in (OrderState.LIVE, OrderState.PARTIAL)
            ):
                await self.broker.cancel(order.venue_order_id)
            report = await self.broker.lookup(order.venue_order_id, market)
            if report is None:
                if order.state in (OrderState.SENT, OrderState.UNKNOWN):
                    self._move(order, OrderState.CANCELED, "poll", error="the venue never took it")
                continue
            await self.apply(order, report, market, source="poll")

    async def cancel_all(self) -> int:
        """Cancel every resting order (shutdown with `on_shutdown = "cancel"`)."""
        count = 0
        for order in self.open_orders():
            if order.state in (OrderState.LIVE, OrderState.PARTIAL) and order.venue_order_id:
                if await self.broker.cancel(order.venue_order_id):
                    count += 1
                market = await self._market_of(order.intent)
                report = await self.broker.lookup(order.venue_order_id, market)
                if report is not None:
                    await self.apply(order, report, market, source="shutdown")
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
        self.listener.status(False, "reconciling open orders")
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
        self.listener.status(
            True,
            f"{checked} orders checked, {not_sent} not sent, {booked} fills booked"
            + (f", {foreign} trades of orders polytail did not send" if foreign else ""),
        )
        return summary

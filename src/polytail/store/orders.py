"""Order intents and their lifecycle: the order manager's durable state.

`create_intent` is THE exactly-once guard: one atomic insert-if-absent on the unique
(account, intent_key). It returns False when the intent exists, whoever wrote it and
whenever (a retry, a restart, a second worker), and the caller must then not send.

`transition` writes the new state and its audit event in the caller's transaction, and
only if the row is still in the state the caller read (compare-and-set): a transition
decided on stale information raises `StaleOrder` instead of overwriting a newer state.
Illegal transitions are refused by the domain's state machine before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from polytail.config.redaction import REDACTOR
from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, Address, ClientOrderId, ConditionId, FillId, TokenId
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.orders import (
    Order,
    OrderIntent,
    OrderState,
    OrderType,
    check_transition,
)
from polytail.store.context import TxContext
from polytail.store.errors import StaleOrder, UnknownOrder
from polytail.store.schema import OrderEventRow, OrderRow
from polytail.store.sql import insert_if_absent


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One recorded step of an order's life (None -> PENDING is its creation)."""

    client_id: ClientOrderId
    from_state: OrderState | None
    to_state: OrderState
    at_ms: int
    source: str
    venue_order_id: str | None
    filled: Shares
    filled_notional: Usdc
    fees: Usdc
    error: str
    detail: str


_PROGRESS = ("state", "venue_order_id", "filled", "filled_notional", "fees", "error")
_TRANSITION = (
    update(OrderRow)
    .where(
        OrderRow.client_id == bindparam("at_client_id"),
        OrderRow.state == bindparam("at_state"),
        OrderRow.filled == bindparam("at_filled"),
        OrderRow.filled_notional == bindparam("at_filled_notional"),
        OrderRow.fees == bindparam("at_fees"),
    )
    .values({name: bindparam(f"new_{name}") for name in (*_PROGRESS, "updated_at_ms")})
)
"""The compare-and-set of a transition, built once (compiled once per process)."""
_ADD_EVENT = insert(OrderEventRow)


def _order(row: Any) -> Order:
    intent = OrderIntent(
        client_id=ClientOrderId(row.client_id),
        account=AccountId(row.account),
        intent_key=row.intent_key,
        token_id=TokenId(row.token_id),
        condition_id=ConditionId(row.condition_id),
        side=Side(row.side),
        order_type=OrderType(row.order_type),
        limit_price=Price(row.limit_price),
        size=Shares(row.size),
        max_spend=Usdc(row.max_spend),
        created_at_ms=row.created_at_ms,
        fill_id=None if row.fill_id is None else FillId(row.fill_id),
        leader=None if row.leader is None else Address(row.leader),
        expires_at=row.expires_at,
        post_only=row.post_only,
    )
    return Order(
        intent=intent,
        state=OrderState(row.state),
        venue_order_id=row.venue_order_id,
        filled=Shares(row.filled),
        filled_notional=Usdc(row.filled_notional),
        fees=Usdc(row.fees),
        error=row.error,
        updated_at_ms=row.updated_at_ms,
    )


def _progress(order: Order) -> dict[str, Any]:
    return {
        "state": order.state.value,
        "venue_order_id": order.venue_order_id,
        "filled": order.filled.units,
        "filled_notional": order.filled_notional.units,
        "fees": order.fees.units,
        "error": REDACTOR.scrub(order.error),  # venue errors can echo request headers
    }


class OrderRepository:
    def __init__(self, context: TxContext) -> None:
        self._context = context
        self._connection = context.connection

    # --- writes -----------------------------------------------------------------------------
    def create_intent(self, intent: OrderIntent, *, source: str = "intent") -> bool:
        """Write the intent as a PENDING order; False if (account, intent_key) exists."""
        pending = Order(intent=intent, updated_at_ms=intent.created_at_ms)
        row = {
            "client_id": intent.client_id,
            "account": intent.account,
            "intent_key": intent.intent_key,
            "token_id": intent.token_id,
            "condition_id": intent.condition_id,
            "side": intent.side.value,
            "order_type": intent.order_type.value,
            "limit_price": intent.limit_price.micros,
            "size": intent.size.units,
            "max_spend": intent.max_spend.units,
            "created_at_ms": intent.created_at_ms,
            "fill_id": intent.fill_id,
            "leader": intent.leader,
            "expires_at": intent.expires_at,
            "post_only": intent.post_only,
            "updated_at_ms": intent.created_at_ms,
            **_progress(pending),
        }
        if not insert_if_absent(self._connection, OrderRow, row):
            return False
        self._event(None, pending, source=source, detail="")
        return True

    def transition(self, before: Order, after: Order, *, source: str, detail: str = "") -> None:
        """Move an order from `before` (as the caller read it) to `after`, with its event."""
        client_id = before.client_id
        if after.client_id != client_id:
            raise ValueError(f"order {client_id}: cannot transition into order {after.client_id}")
        check_transition(client_id, before.state, after.state)
        if after.filled < before.filled or after.filled_notional < before.filled_notional:
            raise ValueError(f"order {client_id}: filled quantities cannot decrease")
        parameters = {f"new_{name}": value for name, value in _progress(after).items()}
        parameters.update(
            new_updated_at_ms=after.updated_at_ms,
            at_client_id=client_id,
            at_state=before.state.value,
            at_filled=before.filled.units,
            at_filled_notional=before.filled_notional.units,
            at_fees=before.fees.units,
        )
        if self._connection.execute(_TRANSITION, parameters).rowcount != 1:
            current = self.get(client_id)
            if current is None:
                self._context.refuse(UnknownOrder(f"order {client_id} does not exist"))
            self._context.refuse(
                StaleOrder(
                    f"order {client_id} is {current.state} with {current.filled} filled, not "
                    f"{before.state} with {before.filled} as read; reload it"
                )
            )
        self._event(before.state, after, source=source, detail=detail)

    def _event(
        self, from_state: OrderState | None, order: Order, *, source: str, detail: str
    ) -> None:
        self._connection.execute(
            _ADD_EVENT,
            {
                "client_id": order.client_id,
                "from_state": None if from_state is None else from_state.value,
                "to_state": order.state.value,
                "at_ms": order.updated_at_ms,
                "source": source,
                "venue_order_id": order.venue_order_id,
                "filled": order.filled.units,
                "filled_notional": order.filled_notional.units,
                "fees": order.fees.units,
                "error": REDACTOR.scrub(order.error),
                "detail": REDACTOR.scrub(detail),
            },
        )

    # --- reads ------------------------------------------------------------------------------
    def get(self, client_id: ClientOrderId) -> Order | None:
        row = self._connection.execute(
            select(OrderRow).where(OrderRow.client_id == client_id)
        ).first()
        return None if row is None else _order(row)

    def by_intent(self, account: AccountId, intent_key: str) -> Order | None:
        query = select(OrderRow).where(
            OrderRow.account == account, OrderRow.intent_key == intent_key
        )
        row = self._connection.execute(query).first()
        return None if row is None else _order(row)

    def by_venue_id(self, venue_order_id: str) -> Order | None:
        query = select(OrderRow).where(OrderRow.venue_order_id == venue_order_id)
        row = self._connection.execute(query).first()
        return None if row is None else _order(row)

    def in_states(self, account: AccountId, states: Iterable[OrderState]) -> list[Order]:
        """Orders of the account in any of `states`, oldest first (reconciliation's worklist).

        Sorted here rather than in SQL: with an ORDER BY on the creation time, SQLite plans
        the query on the (account, created) index and reads every order the account ever
        had; without it, it reads only the few open ones through the (account, state)
        index. The engine asks this before every leader sale, so it must stay cheap.
        """
        query = select(OrderRow).where(
            OrderRow.account == account, OrderRow.state.in_([s.value for s in states])
        )
        rows = sorted(self._connection.execute(query), key=lambda r: (r.created_at_ms, r.client_id))
        return [_order(row) for row in rows]

    def open_count(self, account: AccountId) -> int:
        open_states = [state.value for state in OrderState if state.is_open]
        query = select(func.count()).where(
            OrderRow.account == account, OrderRow.state.in_(open_states)
        )
        return int(self._connection.execute(query).scalar_one())

    def recent(self, account: AccountId, *, limit: int = 50) -> list[Order]:
        query = (
            select(OrderRow)
            .where(OrderRow.account == account)
            .order_by(OrderRow.created_at_ms.desc(), OrderRow.client_id)
            .limit(limit)
        )
        return [_order(row) for row in self._connection.execute(query)]

    def created_between(self, account: AccountId, *, since_ms: int, until_ms: int) -> list[Order]:
        """Orders created in [since_ms, until_ms), oldest first."""
        query = (
            select(OrderRow)
            .where(
                OrderRow.account == account,
                OrderRow.created_at_ms >= since_ms,
                OrderRow.created_at_ms < until_ms,
            )
            .order_by(OrderRow.created_at_ms, OrderRow.client_id)
        )
        return [_order(row) for row in self._connection.execute(query)]

    def events(self, client_id: ClientOrderId) -> list[OrderEvent]:
        query = (
            select(OrderEventRow)
            .where(OrderEventRow.client_id == client_id)
            .order_by(OrderEventRow.id)
        )
        return [
            OrderEvent(
                client_id=ClientOrderId(row.client_id),
                from_state=None if row.from_state is None else OrderState(row.from_state),
                to_state=OrderState(row.to_state),
                at_ms=row.at_ms,
                source=row.source,
                venue_order_id=row.venue_order_id,
                filled=Shares(row.filled),
                filled_notional=Usdc(row.filled_notional),
                fees=Usdc(row.fees),
                error=row.error,
                detail=row.detail,
            )
            for row in self._connection.execute(query)
        ]

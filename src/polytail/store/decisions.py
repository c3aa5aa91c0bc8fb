"""Decisions, copy or skip: the store's answer to "why didn't it copy?".

Append-only: a fill decided twice (a retry, a restart) keeps both records, in order, so
the history is never rewritten.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

from polytail.domain.decisions import Action, Decision, ReasonCode
from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, Address, FillId, TokenId
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.orders import OrderType
from polytail.store.context import TxContext
from polytail.store.schema import DecisionRow

_INSERT = insert(DecisionRow)  # executed with parameters: compiled once per process


def _decision(row: Any) -> Decision:
    return Decision(
        account=AccountId(row.account),
        intent_key=row.intent_key,
        action=Action(row.action),
        reasons=tuple(ReasonCode(code) for code in row.reasons.split(",")),
        decided_at_ms=row.decided_at_ms,
        fill_id=None if row.fill_id is None else FillId(row.fill_id),
        leader=None if row.leader is None else Address(row.leader),
        token_id=None if row.token_id is None else TokenId(row.token_id),
        side=None if row.side is None else Side(row.side),
        size=Shares(row.size),
        limit_price=None if row.limit_price is None else Price(row.limit_price),
        notional=Usdc(row.notional),
        order_type=None if row.order_type is None else OrderType(row.order_type),
        detail=row.detail,
        inputs=dict(row.inputs),
    )


class DecisionRepository:
    def __init__(self, context: TxContext) -> None:
        self._connection = context.connection

    def record(self, decision: Decision) -> None:
        self._connection.execute(
            _INSERT,
            {
                "account": decision.account,
                "intent_key": decision.intent_key,
                "action": decision.action.value,
                "reasons": ",".join(code.value for code in decision.reasons),
                "decided_at_ms": decision.decided_at_ms,
                "fill_id": decision.fill_id,
                "leader": decision.leader,
                "token_id": decision.token_id,
                "side": None if decision.side is None else decision.side.value,
                "size": decision.size.units,
                "limit_price": None
                if decision.limit_price is None
                else decision.limit_price.micros,
                "notional": decision.notional.units,
                "order_type": None if decision.order_type is None else decision.order_type.value,
                "detail": decision.detail,
                "inputs": dict(decision.inputs),
            },
        )

    def decided(self, account: AccountId, fill_id: FillId) -> bool:
        """Whether this account already decided about this leader fill (an index probe)."""
        query = (
            select(DecisionRow.id)
            .where(DecisionRow.account == account, DecisionRow.fill_id == fill_id)
            .limit(1)
        )
        return self._connection.execute(query).first() is not None

    def why(self, account: AccountId, fill_id: FillId) -> list[Decision]:
        """Every decision this account made about this leader fill, oldest first."""
        query = (
            select(DecisionRow)
            .where(DecisionRow.account == account, DecisionRow.fill_id == fill_id)
            .order_by(DecisionRow.id)
        )
        return [_decision(row) for row in self._connection.execute(query)]

    def recent(
        self, account: AccountId, *, action: Action | None = None, limit: int = 50
    ) -> list[Decision]:
        """The newest decisions first, optionally only copies or only skips."""
        query = select(DecisionRow).where(DecisionRow.account == account)
        if action is not None:
            query = query.where(DecisionRow.action == action.value)
        query = query.order_by(DecisionRow.decided_at_ms.desc(), DecisionRow.id.desc())
        return [_decision(row) for row in self._connection.execute(query.limit(limit))]

    def counts(self, account: AccountId) -> dict[tuple[Address | None, Action], int]:
        """How many copies and skips of each leader's fills (None: exit rules)."""
        query = (
            select(DecisionRow.leader, DecisionRow.action, func.count())
            .where(DecisionRow.account == account)
            .group_by(DecisionRow.leader, DecisionRow.action)
        )
        return {
            (None if leader is None else Address(leader), Action(action)): int(count)
            for leader, action, count in self._connection.execute(query)
        }

    def between(self, account: AccountId, *, since_ms: int, until_ms: int) -> list[Decision]:
        """Decisions made in [since_ms, until_ms), oldest first."""
        query = (
            select(DecisionRow)
            .where(
                DecisionRow.account == account,
                DecisionRow.decided_at_ms >= since_ms,
                DecisionRow.decided_at_ms < until_ms,
            )
            .order_by(DecisionRow.decided_at_ms, DecisionRow.id)
        )
        return [_decision(row) for row in self._connection.execute(query)]

"""The audit log: who did what and when (orders placed, configuration changed, operator
commands). Append-only.

Order changes are written once, in the transaction that changes the order, to
`order_events` (the hot path pays for one insert, never two); `trail` reads both tables
as one log, so `polytail audit` shows every order change beside every configuration
change and operator command, in time order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select

from polytail.config.redaction import REDACTOR
from polytail.domain.ids import AccountId
from polytail.domain.money import Shares
from polytail.store.context import TxContext
from polytail.store.schema import AuditRow, OrderEventRow, OrderRow


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at_ms: int
    actor: str
    action: str
    subject: str
    account: AccountId | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


class AuditRepository:
    def __init__(self, context: TxContext) -> None:
        self._connection = context.connection

    def append(self, entry: AuditEntry) -> None:
        """Record an entry (JSON-ready `detail`); every registered secret is masked first."""
        self._connection.execute(
            insert(AuditRow).values(
                at_ms=entry.at_ms,
                account=entry.account,
                actor=entry.actor,
                action=entry.action,
                subject=REDACTOR.scrub(entry.subject),
                detail=REDACTOR.redact_mapping(entry.detail),
            )
        )

    def recent(self, *, account: AccountId | None = None, limit: int = 100) -> list[AuditEntry]:
        query = select(AuditRow).order_by(AuditRow.at_ms.desc(), AuditRow.id.desc())
        if account is not None:
            query = query.where(AuditRow.account == account)
        return [
            AuditEntry(
                at_ms=row.at_ms,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                account=None if row.account is None else AccountId(row.account),
                detail=dict(row.detail),
            )
            for row in self._connection.execute(query.limit(limit))
        ]

    def trail(
        self, *, account: AccountId | None = None, limit: int = 100, since_ms: int = 0
    ) -> list[AuditEntry]:
        """Operator and configuration entries together with every order change, newest first.

        An order change appears as actor = what reported it (`intent`, `reply`, `poll`,
        `user_ws`, `reconcile`, ...), action = `order <STATE>`, subject = the client id.
        """
        entries = [e for e in self.recent(account=account, limit=limit) if e.at_ms >= since_ms]
        query = (
            select(OrderEventRow, OrderRow.account, OrderRow.side, OrderRow.token_id)
            .join(OrderRow, OrderRow.client_id == OrderEventRow.client_id)
            .where(OrderEventRow.at_ms >= since_ms)
            .order_by(OrderEventRow.at_ms.desc(), OrderEventRow.id.desc())
            .limit(limit)
        )
        if account is not None:
            query = query.where(OrderRow.account == account)
        for row in self._connection.execute(query):
            detail: dict[str, Any] = {
                "from": row.from_state,
                "to": row.to_state,
                "side": row.side,
                "token_id": row.token_id,
                "filled": str(Shares(row.filled)),
            }
            for name in ("venue_order_id", "error", "detail"):
                if getattr(row, name):
                    detail[name] = getattr(row, name)
            entries.append(
                AuditEntry(
                    at_ms=row.at_ms,
                    actor=row.source,
                    action=f"order {row.to_state}",
                    subject=row.client_id,
                    account=AccountId(row.account),
                    detail=detail,
                )
            )
        entries.sort(key=lambda entry: entry.at_ms, reverse=True)
        return entries[:limit]

"""The audit log: who did what and when (orders placed, configuration changed, operator
commands). Append-only; order state changes have their own trail in `order_events`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select

from polytail.config.redaction import REDACTOR
from polytail.domain.ids import AccountId
from polytail.store.context import TxContext
from polytail.store.schema import AuditRow


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

"""The audit log records who did what, and never a secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from polytail.config.redaction import MASK, REDACTOR
from polytail.domain.ids import AccountId
from polytail.store import AuditEntry, Store


@pytest.fixture
def secret() -> Iterator[str]:
    value = "0x" + "5ec7e7" * 10 + "abcd"
    REDACTOR.register(value)
    yield value
    REDACTOR.clear()


def test_entries_are_kept_newest_first_with_secrets_masked(store: Store, secret: str) -> None:
    with store.transaction() as tx:
        tx.audit.append(AuditEntry(1, "cli", "config.set", "sizing.fixed_usdc = 5"))
        tx.audit.append(
            AuditEntry(
                2,
                "telegram",
                "pause",
                f"leader paused by key {secret}",
                account=AccountId("default"),
                detail={"api_secret": "whatever", "note": f"signed with {secret}"},
            )
        )
    with store.read() as tx:
        newest, oldest = tx.audit.recent()
        assert oldest.action == "config.set"
        assert secret not in newest.subject and MASK in newest.subject
        assert newest.detail == {"api_secret": MASK, "note": f"signed with {MASK}"}
        assert [entry.action for entry in tx.audit.recent(account=AccountId("default"))] == [
            "pause"
        ]

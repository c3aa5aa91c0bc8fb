"""Persistence: SQLAlchemy 2 models, Alembic migrations and repositories (SQLite, PostgreSQL).

Open a store with `Store.open(url)` (schema created or upgraded on the fly) and work in
`store.transaction()` / `store.read()`; see `polytail.store.store` for the threading rules
and docs/ARCHITECTURE.md ("Persistence") for the tables and their idempotency keys.
"""

from polytail.store.audit import AuditEntry
from polytail.store.errors import (
    DuplicateEvent,
    StaleLedger,
    StaleOrder,
    StoreError,
    UnknownOrder,
)
from polytail.store.orders import OrderEvent
from polytail.store.risk import Accumulation, RiskEntry
from polytail.store.store import Store, Transaction

__all__ = [
    "Accumulation",
    "AuditEntry",
    "DuplicateEvent",
    "OrderEvent",
    "RiskEntry",
    "StaleLedger",
    "StaleOrder",
    "Store",
    "StoreError",
    "Transaction",
    "UnknownOrder",
]

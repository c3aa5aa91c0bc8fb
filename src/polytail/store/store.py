"""`Store`: one database, its schema kept at the newest migration, and transactions that
hand out the repositories.

    store = Store.open(config.database_url())       # creates or upgrades the schema
    with store.transaction() as tx:                  # one atomic unit of work
        if tx.orders.create_intent(intent):
            ...
    with store.read() as tx:                         # a consistent read, never commits
        positions = tx.ledger.holdings(account)

Calls are synchronous. A SQLite write commits in well under a millisecond (see
bench/bench_ledger.py), so async code makes the one hot-path write, the PENDING intent,
directly; batches (fills of a page, startup loads, reports) go through
`await asyncio.to_thread(...)` so they never stall the event loop. A `Store` may be used
from several threads: each transaction takes its own pooled connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Self

from sqlalchemy import Connection, Engine

from polytail.config.schema import PolytailConfig
from polytail.domain.ledger import Booking
from polytail.store.audit import AuditRepository
from polytail.store.context import TxContext
from polytail.store.decisions import DecisionRepository
from polytail.store.engine import BEGIN_MODE, make_engine, redacted
from polytail.store.fills import CursorRepository, FillRepository
from polytail.store.ledger import LedgerRepository
from polytail.store.migrate import upgrade_to_head
from polytail.store.orders import OrderRepository
from polytail.store.risk import AccumulatorRepository, RiskRepository


class Transaction:
    """The repositories, all working in one database transaction."""

    def __init__(self, connection: Connection) -> None:
        self.context = TxContext(connection)

    @cached_property
    def fills(self) -> FillRepository:
        return FillRepository(self.context)

    @cached_property
    def cursors(self) -> CursorRepository:
        return CursorRepository(self.context)

    @cached_property
    def decisions(self) -> DecisionRepository:
        return DecisionRepository(self.context)

    @cached_property
    def orders(self) -> OrderRepository:
        return OrderRepository(self.context)

    @cached_property
    def ledger(self) -> LedgerRepository:
        return LedgerRepository(self.context)

    @cached_property
    def risk(self) -> RiskRepository:
        return RiskRepository(self.context)

    @cached_property
    def accumulators(self) -> AccumulatorRepository:
        return AccumulatorRepository(self.context)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.context)


class Store:
    def __init__(self, engine: Engine, url: str, revision: str) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
        self.url = redacted(url)
        self.revision = revision

    @classmethod
    def open(cls, url: str, *, echo: bool = False) -> Store:
        """Connect and bring the schema to the newest migration (creating it if empty)."""
        engine = make_engine(url, echo=echo)
        try:
            revision = upgrade_to_head(engine)
        except Exception:
            engine.dispose()
            raise
        return cls(engine, url, revision)

    @classmethod
    def from_config(cls, config: PolytailConfig) -> Store:
        """The mode's database: its own SQLite file for paper and for live, or database.url."""
        return cls.open(config.database_url(), echo=config.database.echo)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction: commits when the block ends, rolls back if it raises.

        If a repository refused something (a `StoreError`) inside the block, the block is
        rolled back even when the caller caught the error, and the error is raised again.
        """
        with self._writer.connect() as connection:
            transaction = connection.begin()
            tx = Transaction(connection)
            try:
                yield tx
            except BaseException:
                transaction.rollback()
                raise
            refusal = tx.context.refusal
            if refusal is not None:
                transaction.rollback()
                raise refusal
            transaction.commit()

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A read-only unit: a consistent view, rolled back at the end."""
        with self._engine.connect() as connection, connection.begin() as transaction:
            try:
                yield Transaction(connection)
            finally:
                transaction.rollback()

    def record(self, booking: Booking) -> None:
        """Persist one ledger booking in its own transaction (a `Ledger` persist hook)."""
        with self.transaction() as tx:
            tx.ledger.record(booking)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

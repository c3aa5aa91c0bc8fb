"""Dialect-aware statements the repositories share: insert-if-absent and upsert.

Both SQLite (>= 3.24) and PostgreSQL implement `INSERT ... ON CONFLICT`, which makes
"insert unless the key exists" one atomic statement on either database: the exactly-once
guards rely on it rather than on a read followed by a write, which races.

Statements are built once per (dialect, table, key) and executed with bound parameters,
so SQLAlchemy compiles each of them once per process: building and compiling a statement
per call cost more than the database write itself (bench/bench_ledger.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase


def _table(model: type[DeclarativeBase]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _insert(dialect: str, model: type[DeclarativeBase]) -> Any:
    table = _table(model)
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


@cache
def _insert_ignore(dialect: str, model: type[DeclarativeBase], returning: str | None) -> Any:
    table = _table(model)
    column = table.c[returning] if returning else next(iter(table.primary_key.columns))
    return _insert(dialect, model).on_conflict_do_nothing().returning(column)


@cache
def _upsert(dialect: str, model: type[DeclarativeBase], keys: tuple[str, ...]) -> Any:
    statement = _insert(dialect, model)
    updates = {
        column.name: statement.excluded[column.name]
        for column in _table(model).columns
        if column.name not in keys
    }
    return statement.on_conflict_do_update(index_elements=list(keys), set_=updates)


def insert_if_absent(
    connection: Connection,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
) -> bool:
    """Insert one row unless its primary or unique key exists; True if it was inserted.

    Asks `RETURNING` rather than trusting the row count, which psycopg reports as -1 for
    some compiled inserts.
    """
    statement = _insert_ignore(connection.dialect.name, model, None)
    return connection.execute(statement, dict(values)).first() is not None


def insert_many_if_absent(
    connection: Connection,
    model: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    returning: str,
) -> set[Any]:
    """Insert the rows whose key is new; returns the `returning` column of those inserted."""
    if not rows:
        return set()
    statement = _insert_ignore(connection.dialect.name, model, returning)
    result = connection.execute(statement, [dict(row) for row in rows])
    return set(result.scalars())


def upsert(
    connection: Connection,
    model: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    keys: Iterable[str],
) -> None:
    """Insert the rows, or overwrite every non-key column of rows whose key exists.

    Each row must name every column of the table.
    """
    if not rows:
        return
    statement = _upsert(connection.dialect.name, model, tuple(keys))
    connection.execute(statement, [dict(row) for row in rows])

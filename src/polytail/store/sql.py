"""Dialect-aware statements the repositories share: insert-if-absent and upsert.

Both SQLite (>= 3.24) and PostgreSQL implement `INSERT ... ON CONFLICT`, which makes
"insert unless the key exists" one atomic statement on either database: the exactly-once
guards rely on it rather than on a read followed by a write, which races.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase


def _table(model: type[DeclarativeBase]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _insert(connection: Connection, model: type[DeclarativeBase]) -> Any:
    table = _table(model)
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_if_absent(
    connection: Connection,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
) -> bool:
    """Insert one row unless its primary or unique key exists; True if it was inserted.

    Asks `RETURNING` rather than trusting the row count, which psycopg reports as -1 for
    some compiled inserts.
    """
    table = _table(model)
    first_key = next(iter(table.primary_key.columns))
    statement = (
        _insert(connection, model).values(**values).on_conflict_do_nothing().returning(first_key)
    )
    return connection.execute(statement).first() is not None


def insert_many_if_absent(
    connection: Connection,
    model: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    returning: str,
) -> set[Any]:
    """Insert the rows whose key is new; returns the `returning` column of those inserted."""
    if not rows:
        return set()
    table = _table(model)
    statement = (
        _insert(connection, model)
        .values(list(rows))
        .on_conflict_do_nothing()
        .returning(table.c[returning])
    )
    return set(connection.execute(statement).scalars())


def upsert(
    connection: Connection,
    model: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    keys: Iterable[str],
) -> None:
    """Insert the rows, or overwrite the non-key columns of rows whose key exists."""
    if not rows:
        return
    key_columns = list(keys)
    statement = _insert(connection, model).values(list(rows))
    updates = {name: statement.excluded[name] for name in rows[0] if name not in set(key_columns)}
    connection.execute(statement.on_conflict_do_update(index_elements=key_columns, set_=updates))

"""Database engines for SQLite (default) and PostgreSQL, configured for a trading journal.

SQLite: WAL (readers never block the writer), `synchronous=NORMAL` (a commit survives a
process crash; only a power cut can lose the last commits), foreign keys on, a busy
timeout, and write transactions opened with `BEGIN IMMEDIATE`. The last point matters:
with the driver's default deferred transactions, two connections that both read and then
write fail with "database is locked" *without* waiting for the busy timeout, which is how
the exactly-once guard would lose a race. Taking the write lock up front makes concurrent
writers queue instead.

Switching a new file to WAL needs a moment alone with it, and SQLite answers "database is
locked" to that pragma without consulting the busy handler when another connection holds
the file (several processes, or threads, opening a fresh database at once): the switch is
retried until the busy timeout instead.

PostgreSQL: psycopg 3 (`postgresql+psycopg://`); a plain `postgresql://` URL is taken to
mean the same.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

BUSY_TIMEOUT_MS: Final = 30_000
BEGIN_MODE: Final = "polytail_begin"
"""Execution option naming how a SQLite transaction begins (DEFERRED or IMMEDIATE)."""


class StoreConfigError(ValueError):
    """The database URL cannot be used; the message says what to change."""


def normalise_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except Exception as error:  # SQLAlchemy raises ArgumentError; say which setting it is
        raise StoreConfigError(
            f"database.url is not a database URL ({error}); expected e.g. "
            "sqlite:////path/polytail.sqlite or postgresql+psycopg://user@host/db"
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise StoreConfigError(
            f"database.url uses {url.drivername!r}; polytail supports sqlite and postgresql+psycopg"
        )
    return url


def make_engine(raw_url: str, *, echo: bool = False) -> Engine:
    url = normalise_url(raw_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo)
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _sqlite_engine(url: URL, echo: bool) -> Engine:
    memory = url.database in (None, "", ":memory:")
    if not memory and url.database is not None:
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {"poolclass": StaticPool} if memory else {}
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        **extra,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if not memory:
            _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(BEGIN_MODE, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """`PRAGMA journal_mode=WAL`, retried while another connection holds the file."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, 0.1)


def redacted(url: str) -> str:
    """The URL with any password masked, for logs and status output."""
    try:
        return normalise_url(url).render_as_string(hide_password=True)
    except StoreConfigError:
        return "<invalid database url>"

"""Connections: SQLite is set up as a durable journal (WAL, synchronous NORMAL, foreign
keys); paper and live never share a database; bad URLs are explained."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from polytail.config.schema import PolytailConfig
from polytail.store import Store
from polytail.store.engine import StoreConfigError, normalise_url, redacted


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_normal_sync(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store, store.read() as tx:
        connection = tx.context.connection
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30_000


def test_opening_waits_while_another_connection_writes_to_a_new_file(tmp_path: Path) -> None:
    """A fresh file still in rollback mode, mid-write elsewhere (a second process starting
    at the same moment): SQLite refuses the switch to WAL at once, without its busy
    handler, so the store must wait for the writer rather than fail with "locked"."""
    path = tmp_path / "db.sqlite"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE other_tool (x INTEGER)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO other_tool VALUES (1)")
    release = threading.Timer(0.3, lambda: writer.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    try:
        with Store.open(f"sqlite:///{path}") as store, store.read() as tx:
            mode = tx.context.connection.execute(text("PRAGMA journal_mode")).scalar()
    finally:
        release.join()
        writer.close()
    assert mode == "wal"
    assert time.monotonic() - started >= 0.25  # it waited for the writer


def test_paper_and_live_get_separate_sqlite_files_in_the_data_dir(tmp_path: Path) -> None:
    wallet = {"address": "0x" + "1" * 40, "type": "eoa"}
    paper = PolytailConfig(data_dir=tmp_path)
    live = PolytailConfig(data_dir=tmp_path, mode="live", wallet=wallet)  # type: ignore[arg-type]
    for config in (paper, live):
        Store.from_config(config).close()
    assert sorted(path.name for path in tmp_path.glob("*.sqlite")) == [
        "polytail-live.sqlite",
        "polytail-paper.sqlite",
    ]


def test_a_plain_postgresql_url_uses_psycopg_3() -> None:
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


def test_an_unsupported_or_malformed_url_names_the_setting() -> None:
    with pytest.raises(StoreConfigError, match=r"database\.url uses 'mysql"):
        normalise_url("mysql://u@h/db")
    with pytest.raises(StoreConfigError, match=r"database\.url is not a database URL"):
        normalise_url("not a url")


def test_passwords_never_appear_in_the_shown_url() -> None:
    shown = redacted("postgresql+psycopg://trader:hunter2@db.local/polytail")
    assert "hunter2" not in shown and "trader" in shown

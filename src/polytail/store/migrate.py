"""Schema migrations with Alembic, configured in code so they run from an installed package.

`Store.open` calls `upgrade_to_head`: a new database gets the whole schema, an old one the
missing revisions, and a current one costs a version check. No alembic.ini is involved;
the scripts ship inside the package (`polytail/store/migrations`). Concurrent openers are
serialised (SQLite: the write lock of `BEGIN IMMEDIATE`; PostgreSQL: an advisory lock), and
each upgrade is one transaction, so a crash mid-migration leaves the previous schema.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from polytail.store.engine import BEGIN_MODE

_PG_LOCK: Final = 0x706F6C79  # "poly": the advisory lock id of schema upgrades


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("polytail.store") / "migrations"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> str:
    """Bring the schema to the newest revision; returns it."""
    head = head_revision()
    writer = engine.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
    with writer.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        if current_revision(connection) != head:
            command.upgrade(alembic_config(connection), "head")
    return head

"""Migrations: an empty database is brought to the newest schema on open, on SQLite and
PostgreSQL; the migrated schema is exactly the models'; reopening changes nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from polytail.store import Store
from polytail.store.engine import normalise_url
from polytail.store.migrate import head_revision
from polytail.store.schema import Base


def test_opening_an_empty_database_creates_every_table_at_the_head_revision(
    fresh_url: str,
) -> None:
    with Store.open(fresh_url) as store:
        assert store.revision == head_revision()
    engine = create_engine(normalise_url(fresh_url))
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert version == head_revision()


def test_the_migrated_schema_is_exactly_the_models(fresh_url: str) -> None:
    Store.open(fresh_url).close()
    engine = create_engine(normalise_url(fresh_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_reopening_keeps_the_data_and_the_revision(fresh_url: str) -> None:
    with Store.open(fresh_url) as store, store.transaction() as tx:
        tx.cursors.save("poll", "0xabc", "1700000000", at_ms=1)
    with Store.open(fresh_url) as again, again.read() as tx:
        assert again.revision == head_revision()
        assert tx.cursors.load("poll", "0xabc") == "1700000000"


def test_stores_opening_a_new_database_at_once_migrate_it_once(fresh_url: str) -> None:
    def open_and_close(_: int) -> str:
        with Store.open(fresh_url) as store:
            return store.revision

    with ThreadPoolExecutor(max_workers=4) as pool:
        revisions = list(pool.map(open_and_close, range(4)))
    assert revisions == [head_revision()] * 4

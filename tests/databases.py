"""Database fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from the server at 127.0.0.1:5432 when it answers (trust auth, user
`postgres`, then `root`; $POLYTAIL_TEST_POSTGRES names another server). Each test session
creates its own uniquely named database there and drops it at the end, so parallel runs
and other users of the server are untouched. When no server answers, a private one is
started with pytest-postgresql from the binaries under /usr/lib/postgresql/*/bin. These
tests never skip: a database test that silently skips proves nothing.

`store` is parametrised over both backends and shares one migrated database per backend
per session; every table is emptied after each test. `fresh_url` gives a brand-new empty
database, for tests of migrations and of reopening.
"""

from __future__ import annotations

import glob
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from pytest_postgresql import factories
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from polytail.store import Store
from polytail.store.schema import Base

BACKENDS = ("sqlite", "postgresql")
_SERVERS = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "postgresql+psycopg://root@127.0.0.1:5432/postgres",
)


def _pg_ctl() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return found[0] if found else None


polytail_private_postgres = factories.postgresql_proc(executable=_pg_ctl(), port=None)


def _answers(url: str) -> bool:
    parsed = make_url(url)
    try:
        with psycopg.connect(
            host=parsed.host,
            port=parsed.port or 5432,
            user=parsed.username,
            dbname=parsed.database,
            password=parsed.password,
            connect_timeout=3,
        ):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> str:
    """URL of the maintenance database of a PostgreSQL server we may create databases on."""
    explicit = os.environ.get("POLYTAIL_TEST_POSTGRES")
    tried = (explicit,) if explicit else _SERVERS
    for url in tried:
        if _answers(url):
            return url
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.fail(
            f"no PostgreSQL answers at {', '.join(tried)}, and PostgreSQL refuses to start a "
            "private server as root: start the system server (service postgresql start) or "
            "set POLYTAIL_TEST_POSTGRES to the URL of one"
        )
    proc = request.getfixturevalue("polytail_private_postgres")
    return f"postgresql+psycopg://{proc.user}@{proc.host}:{proc.port}/postgres"


class PostgresDatabases:
    """Creates uniquely named databases on the server and drops them all at the end."""

    def __init__(self, server: str) -> None:
        self._server = make_url(server)
        self._prefix = f"polytail_test_{os.getpid()}_{secrets.token_hex(3)}"
        self._created: list[str] = []

    def _admin(self) -> psycopg.Connection:
        url = self._server
        return psycopg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            dbname=url.database,
            password=url.password,
            autocommit=True,
        )

    def create(self) -> str:
        name = f"{self._prefix}_{len(self._created)}"
        with self._admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return self._server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self._admin() as admin:
            for name in self._created:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_databases(postgres_server: str) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_server)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def new_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], str]:
    """Make an empty database of a backend; returns its URL."""

    def make(backend: str) -> str:
        if backend == "sqlite":
            folder: Path = tmp_path_factory.mktemp("sqlite")
            return f"sqlite:///{folder / 'polytail.sqlite'}"
        databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
        return databases.create()

    return make


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fresh_url(backend: str, new_database: Callable[[str], str]) -> str:
    return new_database(backend)


@pytest.fixture(scope="session")
def shared_stores() -> Iterator[dict[str, tuple[str, Store]]]:
    stores: dict[str, tuple[str, Store]] = {}
    yield stores
    for _, store in stores.values():
        store.close()


@pytest.fixture
def store_url(
    backend: str,
    shared_stores: dict[str, tuple[str, Store]],
    new_database: Callable[[str], str],
) -> Iterator[str]:
    """The URL of this session's migrated database on `backend`, emptied after the test."""
    if backend not in shared_stores:
        url = new_database(backend)
        shared_stores[backend] = (url, Store.open(url))
    url, shared = shared_stores[backend]
    yield url
    with shared.transaction() as tx:
        for table in reversed(Base.metadata.sorted_tables):
            tx.context.connection.execute(delete(table))


@pytest.fixture
def store(store_url: str, shared_stores: dict[str, tuple[str, Store]], backend: str) -> Store:
    """A migrated store on `backend`, empty at the start of the test."""
    return shared_stores[backend][1]

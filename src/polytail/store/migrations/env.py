"""Alembic environment: runs on the connection `polytail.store.migrate` hands over."""

from __future__ import annotations

from alembic import context

from polytail.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "polytail migrations run through polytail.store (Store.open or "
        "polytail.store.migrate.upgrade_to_head), not the alembic command line"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

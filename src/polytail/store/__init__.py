"""Persistence: SQLAlchemy 2 models, Alembic migrations and repositories (SQLite, PostgreSQL)."""

"""Index fills_seen by first_seen_ms: the engine's start-up pass over undecided fills.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_fills_seen_first_seen", "fills_seen", ["first_seen_ms"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_fills_seen_first_seen", table_name="fills_seen")

"""The initial schema: every table of polytail.store.schema.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accumulators",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("leader", sa.String(length=42), nullable=False),
        sa.Column("token_id", sa.String(length=78), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("notional", sa.BigInteger(), nullable=False),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.Column("fill_ids", sa.JSON(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account", "leader", "token_id", "side", name=op.f("pk_accumulators")
        ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_account_time", "audit_log", ["account", "at_ms"], unique=False)
    op.create_table(
        "cash_movements",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("movement_key", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "movement_key", name=op.f("pk_cash_movements")),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("intent_key", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("decided_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("fill_id", sa.String(length=40), nullable=True),
        sa.Column("leader", sa.String(length=42), nullable=True),
        sa.Column("token_id", sa.String(length=78), nullable=True),
        sa.Column("side", sa.String(length=4), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("limit_price", sa.Integer(), nullable=True),
        sa.Column("notional", sa.BigInteger(), nullable=False),
        sa.Column("order_type", sa.String(length=4), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index("ix_decisions_account_fill", "decisions", ["account", "fill_id"], unique=False)
    op.create_index(
        "ix_decisions_account_time", "decisions", ["account", "decided_at_ms"], unique=False
    )
    op.create_table(
        "feed_cursors",
        sa.Column("feed", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("feed", "key", name=op.f("pk_feed_cursors")),
    )
    op.create_table(
        "fills_seen",
        sa.Column("fill_id", sa.String(length=40), nullable=False),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("token_id", sa.String(length=78), nullable=False),
        sa.Column("condition_id", sa.String(length=66), nullable=True),
        sa.Column("outcome_index", sa.Integer(), nullable=True),
        sa.Column("price", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("usdc", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("event_slug", sa.Text(), nullable=False),
        sa.Column("first_source", sa.String(length=16), nullable=False),
        sa.Column("sources", sa.String(length=128), nullable=False),
        sa.Column("venue_ms", sa.BigInteger(), nullable=False),
        sa.Column("first_seen_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("fill_id", name=op.f("pk_fills_seen")),
    )
    op.create_index(op.f("ix_fills_seen_tx_hash"), "fills_seen", ["tx_hash"], unique=False)
    op.create_index(
        "ix_fills_seen_wallet_timestamp", "fills_seen", ["wallet", "timestamp"], unique=False
    )
    op.create_table(
        "leader_daily_pnl",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("leader", sa.String(length=42), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("realized_pnl", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "leader", "day", name=op.f("pk_leader_daily_pnl")),
    )
    op.create_table(
        "leader_pnl",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("leader", sa.String(length=42), nullable=False),
        sa.Column("realized_pnl", sa.BigInteger(), nullable=False),
        sa.Column("peak_pnl", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "leader", name=op.f("pk_leader_pnl")),
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("cash", sa.BigInteger(), nullable=False),
        sa.Column("deposits", sa.BigInteger(), nullable=False),
        sa.Column("withdrawals", sa.BigInteger(), nullable=False),
        sa.Column("realized_pnl", sa.BigInteger(), nullable=False),
        sa.Column("fees_paid", sa.BigInteger(), nullable=False),
        sa.Column("peak_equity", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_ledger_accounts")),
    )
    op.create_table(
        "orders",
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("intent_key", sa.String(length=200), nullable=False),
        sa.Column("token_id", sa.String(length=78), nullable=False),
        sa.Column("condition_id", sa.String(length=66), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("order_type", sa.String(length=4), nullable=False),
        sa.Column("limit_price", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("max_spend", sa.BigInteger(), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("fill_id", sa.String(length=40), nullable=True),
        sa.Column("leader", sa.String(length=42), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("post_only", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("venue_order_id", sa.String(length=100), nullable=True),
        sa.Column("filled", sa.BigInteger(), nullable=False),
        sa.Column("filled_notional", sa.BigInteger(), nullable=False),
        sa.Column("fees", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_orders")),
        sa.UniqueConstraint("account", "intent_key", name=op.f("uq_orders_account_intent_key")),
    )
    op.create_index(
        "ix_orders_account_created", "orders", ["account", "created_at_ms"], unique=False
    )
    op.create_index("ix_orders_account_state", "orders", ["account", "state"], unique=False)
    op.create_index(op.f("ix_orders_fill_id"), "orders", ["fill_id"], unique=False)
    op.create_index(op.f("ix_orders_venue_order_id"), "orders", ["venue_order_id"], unique=False)
    op.create_table(
        "positions",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.String(length=78), nullable=False),
        sa.Column("condition_id", sa.String(length=66), nullable=False),
        sa.Column("outcome_index", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("payout_per_share", sa.String(length=64), nullable=True),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("realized_pnl", sa.BigInteger(), nullable=False),
        sa.Column("fees_paid", sa.BigInteger(), nullable=False),
        sa.Column("redeemed_payout", sa.BigInteger(), nullable=False),
        sa.Column("opened_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "token_id", name=op.f("pk_positions")),
    )
    op.create_index(
        "ix_positions_account_condition", "positions", ["account", "condition_id"], unique=False
    )
    op.create_index("ix_positions_account_status", "positions", ["account", "status"], unique=False)
    op.create_table(
        "redemptions",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.String(length=78), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("condition_id", sa.String(length=66), nullable=False),
        sa.Column("outcome_index", sa.Integer(), nullable=False),
        sa.Column("claim_index", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.String(length=200), nullable=False),
        sa.Column("payout", sa.BigInteger(), nullable=False),
        sa.Column("total_payout", sa.BigInteger(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "token_id", name=op.f("pk_redemptions")),
    )
    op.create_index(
        "ix_redemptions_account_condition", "redemptions", ["account", "condition_id"], unique=False
    )
    op.create_table(
        "resolutions",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("condition_id", sa.String(length=66), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("payouts", sa.Text(), nullable=False),
        sa.Column("resolved_at", sa.BigInteger(), nullable=True),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "condition_id", name=op.f("pk_resolutions")),
    )
    op.create_table(
        "risk_state",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("until_ms", sa.BigInteger(), nullable=True),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "scope", "key", name=op.f("pk_risk_state")),
    )
    op.create_table(
        "trades",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("trade_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=True),
        sa.Column("venue_order_id", sa.String(length=100), nullable=True),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("token_id", sa.String(length=78), nullable=False),
        sa.Column("condition_id", sa.String(length=66), nullable=False),
        sa.Column("outcome_index", sa.Integer(), nullable=False),
        sa.Column("leader", sa.String(length=42), nullable=False),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("notional", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "trade_id", name=op.f("pk_trades")),
    )
    op.create_index("ix_trades_account_time", "trades", ["account", "at_ms"], unique=False)
    op.create_index(op.f("ix_trades_client_id"), "trades", ["client_id"], unique=False)
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=10), nullable=True),
        sa.Column("to_state", sa.String(length=10), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("venue_order_id", sa.String(length=100), nullable=True),
        sa.Column("filled", sa.BigInteger(), nullable=False),
        sa.Column("filled_notional", sa.BigInteger(), nullable=False),
        sa.Column("fees", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["orders.client_id"], name=op.f("fk_order_events_client_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    op.create_index(op.f("ix_order_events_client_id"), "order_events", ["client_id"], unique=False)
    op.create_table(
        "position_lots",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.String(length=78), nullable=False),
        sa.Column("leader", sa.String(length=42), nullable=False),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account", "token_id"],
            ["positions.account", "positions.token_id"],
            name="fk_position_lots_position",
        ),
        sa.PrimaryKeyConstraint("account", "token_id", "leader", name=op.f("pk_position_lots")),
    )


def downgrade() -> None:
    op.drop_table("position_lots")
    op.drop_index(op.f("ix_order_events_client_id"), table_name="order_events")
    op.drop_table("order_events")
    op.drop_index(op.f("ix_trades_client_id"), table_name="trades")
    op.drop_index("ix_trades_account_time", table_name="trades")
    op.drop_table("trades")
    op.drop_table("risk_state")
    op.drop_table("resolutions")
    op.drop_index("ix_redemptions_account_condition", table_name="redemptions")
    op.drop_table("redemptions")
    op.drop_index("ix_positions_account_status", table_name="positions")
    op.drop_index("ix_positions_account_condition", table_name="positions")
    op.drop_table("positions")
    op.drop_index(op.f("ix_orders_venue_order_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_fill_id"), table_name="orders")
    op.drop_index("ix_orders_account_state", table_name="orders")
    op.drop_index("ix_orders_account_created", table_name="orders")
    op.drop_table("orders")
    op.drop_table("ledger_accounts")
    op.drop_table("leader_pnl")
    op.drop_table("leader_daily_pnl")
    op.drop_index("ix_fills_seen_wallet_timestamp", table_name="fills_seen")
    op.drop_index(op.f("ix_fills_seen_tx_hash"), table_name="fills_seen")
    op.drop_table("fills_seen")
    op.drop_table("feed_cursors")
    op.drop_index("ix_decisions_account_time", table_name="decisions")
    op.drop_index("ix_decisions_account_fill", table_name="decisions")
    op.drop_table("decisions")
    op.drop_table("cash_movements")
    op.drop_index("ix_audit_log_account_time", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("accumulators")

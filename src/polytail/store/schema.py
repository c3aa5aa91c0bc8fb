"""The database schema, as typed SQLAlchemy models. Migrations (`migrations/versions`) create
exactly this; a test compares the two on SQLite and PostgreSQL.

Conventions, so that nothing is ever a float:

- money and share amounts: BIGINT of base units (6 decimals; 9.2e12 pUSD fits);
- prices on a tick: INTEGER micro-units; reported prices and payouts: exact decimal text;
- timestamps: BIGINT milliseconds since the epoch, UTC (`timestamp` of fills: seconds,
  as the venue reports it); days: integer days since the epoch (UTC);
- token ids: decimal text up to 78 digits (uint256); enums: their string values.

The repositories read and write through Core statements built from these models (no ORM
identity map on the hot path); the models are the single definition of every column.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ACCOUNT = 64
TOKEN = 78
CONDITION = 66
ADDRESS = 42
KEY = 200


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --- leader fills and feeds -----------------------------------------------------------------


class FillSeen(Base):
    """Every merged leader fill, first sighting wins; later sightings only fill gaps."""

    __tablename__ = "fills_seen"
    __table_args__ = (
        Index("ix_fills_seen_wallet_timestamp", "wallet", "timestamp"),
        # the engine's start-up pass over recently recorded fills (`FillRepository.undecided`)
        Index("ix_fills_seen_first_seen", "first_seen_ms"),
    )

    fill_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    wallet: Mapped[str] = mapped_column(String(ADDRESS))
    side: Mapped[str] = mapped_column(String(4))
    token_id: Mapped[str] = mapped_column(String(TOKEN))
    condition_id: Mapped[str | None] = mapped_column(String(CONDITION))
    outcome_index: Mapped[int | None] = mapped_column(Integer)
    price: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    usdc: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str | None] = mapped_column(String(66), index=True)
    log_index: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(8))
    fee: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(Text, default="")
    slug: Mapped[str] = mapped_column(Text, default="")
    event_slug: Mapped[str] = mapped_column(Text, default="")
    first_source: Mapped[str] = mapped_column(String(16))
    sources: Mapped[str] = mapped_column(String(128))
    venue_ms: Mapped[int] = mapped_column(BigInteger)
    first_seen_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class FeedCursor(Base):
    """Where each feed (and key: a wallet, a block range) resumes after a restart."""

    __tablename__ = "feed_cursors"

    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


# --- decisions and orders -------------------------------------------------------------------


class DecisionRow(Base):
    """Every decision, copy or skip, with its reasons and inputs ("why didn't it copy?")."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_account_fill", "account", "fill_id"),
        Index("ix_decisions_account_time", "account", "decided_at_ms"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(ACCOUNT))
    intent_key: Mapped[str] = mapped_column(String(KEY))
    action: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[str] = mapped_column(Text)
    decided_at_ms: Mapped[int] = mapped_column(BigInteger)
    fill_id: Mapped[str | None] = mapped_column(String(40))
    leader: Mapped[str | None] = mapped_column(String(ADDRESS))
    token_id: Mapped[str | None] = mapped_column(String(TOKEN))
    side: Mapped[str | None] = mapped_column(String(4))
    size: Mapped[int] = mapped_column(BigInteger)
    limit_price: Mapped[int | None] = mapped_column(Integer)
    notional: Mapped[int] = mapped_column(BigInteger)
    order_type: Mapped[str | None] = mapped_column(String(4))
    detail: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)


class OrderRow(Base):
    """An intent and what became of it at the venue (one row per intent, never resent).

    The unique (account, intent_key) is the exactly-once guard: the intent for a leader
    fill (`copy:<fill id>`) can be written once per account, whatever crashes or races.
    """

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account", "intent_key"),
        Index("ix_orders_account_state", "account", "state"),
        Index("ix_orders_account_created", "account", "created_at_ms"),
    )

    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account: Mapped[str] = mapped_column(String(ACCOUNT))
    intent_key: Mapped[str] = mapped_column(String(KEY))
    token_id: Mapped[str] = mapped_column(String(TOKEN))
    condition_id: Mapped[str] = mapped_column(String(CONDITION))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(4))
    limit_price: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    max_spend: Mapped[int] = mapped_column(BigInteger)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    fill_id: Mapped[str | None] = mapped_column(String(40), index=True)
    leader: Mapped[str | None] = mapped_column(String(ADDRESS))
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    post_only: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(10))
    venue_order_id: Mapped[str | None] = mapped_column(String(100), index=True)
    filled: Mapped[int] = mapped_column(BigInteger)
    filled_notional: Mapped[int] = mapped_column(BigInteger)
    fees: Mapped[int] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(Text)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class OrderEventRow(Base):
    """Append-only audit trail of every state an order went through, and why."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("orders.client_id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(10))
    to_state: Mapped[str] = mapped_column(String(10))
    at_ms: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))
    venue_order_id: Mapped[str | None] = mapped_column(String(100))
    filled: Mapped[int] = mapped_column(BigInteger)
    filled_notional: Mapped[int] = mapped_column(BigInteger)
    fees: Mapped[int] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)


# --- the ledger: events -----------------------------------------------------------------------


class TradeRow(Base):
    """Venue fills of our orders, booked once per (account, trade id)."""

    __tablename__ = "trades"
    __table_args__ = (Index("ix_trades_account_time", "account", "at_ms"),)

    account: Mapped[str] = mapped_column(String(ACCOUNT), primary_key=True)
    trade_id: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    client_id: Mapped[str | None] = mapped_column(String(40), index=True)
    venue_order_id: Mapped[str | None] = mapped_column(String(100))
    side: Mapped[str] = mapped_column(String(4))
    token_id: Mapped[str] = mapped_column(String(TOKEN))
    condition_id: Mapped[str] = mapped_column(String(CONDITION))
    outcome_index: Mapped[int] = mapped_column(Integer)
    leader: Mapped[str] = mapped_column(String(ADDRESS))
    shares: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(Integer)
    notional: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    at_ms: Mapped[int] = mapped_column(BigInteger)


class CashMovementRow(Base):
    __tablename__ = "cash_movements"

    account: Mapped[str] = mapped_column(String(ACCOUNT), primary_key=True)
    movement_key: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text)
    at_ms: Mapped[int] = mapped_column(BigInteger)


class ResolutionRow(Base):
    """A market's resolution as booked for an account (payouts per outcome, exact text)."""

    __tablename__ = "resolutions"

    account: Mapped[str] = mapped_column(String(ACCOUNT), primary_key=True)
    condition_id: Mapped[str] = mapped_column(String(CONDITION), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    payouts: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[int | None] = mapped_column(BigInteger)
    at_ms: Mapped[int] = mapped_column(BigInteger)


class RedemptionRow(Base):
    """One row per position redeemed: the primary key makes paying a claim twice impossible."""

    __tablename__ = "redemptions"
    __table_args__ = (Index("ix_redemptions_account_condition", "account", "condition_id"),)

    account: Mapped[str] = mapped_column(String(ACCOUNT), primary_key=True)
    token_id: Mapped[str] = mapped_column(String(TOKEN), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    condition_id: Mapped[str] = mapped_column(String(CONDITION))
    outcome_index: Mapped[int] = mapped_column(Integer)
    claim_index: Mapped[int | None] = mapped_column(Integer)
    report_id: Mapped[str] = mapped_column(String(KEY))
    payout: Mapped[int] = mapped_column(BigInteger)
    total_payout: Mapped[int] = mapped_column(BigInteger)
    at_ms: Mapped[int] = mapped_column(BigInteger)


# --- the ledger: current state ----------------------------------------------------------------


class LedgerAccountRow(Base):
    """An account's money after its last event; `seq` guards against two writers."""

    __tablename__ = "ledger_accounts"

    account: Mapped[str] = mapped_column(String(ACCOUNT), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    cash: Mapped[int] = mapped_column(BigInteger)
    deposits: Mapped[int] = mapped_column(BigInteger)
    withdrawals: Mapped[int] = mapped_column(BigInteger)
    realized_pnl: Mapped[int] = mapped_column(BigInteger)
    fees_paid: Mapped[int] = mapped_column(BigInteger)
    peak_equity: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class PositionRow(Base):
    __tablename__ = "positions"
    __table_args__ = (
        Index("ix_positions_account_status", "account", "status"),
        Index("ix_positions_account_condition", "account", "condition_id"),
    )

    account: Mapped[str] = mapped_column(String(ACCOUNT), primary_key=True)
    token_id: Mapped[str] = mapped_column(String(TOKEN), primary_key=True)
    condition_id: Mapped[str] = mapped_column(String(CONDITION))
    outcome_index: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    payout_per_share: Mapped[str | None] = mapped_column(String(64))
    shares: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[int] = mapped_column(BigInteger)
    realized_pnl: Mapped[int] = mapped_column(BigInteger)
    fees_paid: Mapped[int] = mapped_column(BigInteger)
    redeemed_payout: Mapped[int] = mapped_column(BigInteger)
    opened_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)


class PositionLotRow(Base):
    """The shares of a position attributed to one leader, and their cost (fees included)."""

    __tablename__ = "position_lots"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account", "token_id"],
            ["positions.account", "positions.token_id"],
            name="fk_position_lots_position",
        ),
    )

    account: Mapped[str] = mapped_column(String(ACCOUNT), primary_key=True)
    token_id: Mapped[str] = mapped_column(String(TOKEN), primary_key=True)
    leader: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    shares: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[int] = mapped_column(BigInteger)


class LeaderPnlRow(Base):
    __tablename__ = "leader_pnl"

    account: Mapped[str] = mapped_column(String(ACCOUNT), primary_key=True)
    leader: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    realized_pnl: Mapped[int] = mapped_column(BigInteger)
    peak_pnl: Mapped[int] = mapped_column(BigInteger)


class LeaderDailyPnlRow(Base):
    """Realized PnL per leader per UTC day (days since the epoch): the daily-loss breakers."""

    __tablename__ = "leader_daily_pnl"

    account: Mapped[str] = mapped_column(String(ACCOUNT), primary_key=True)
    leader: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    realized_pnl: Mapped[int] = mapped_column(BigInteger)


# --- policy state and audit -----------------------------------------------------------------


class RiskStateRow(Base):
    """Breaker states, cool-downs, paused leaders: risk state that must survive a restart."""

    __tablename__ = "risk_state"

    account: Mapped[str] = mapped_column(String(ACCOUNT), primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    until_ms: Mapped[int | None] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class AccumulatorRow(Base):
    """Below-minimum copies accumulated per leader and outcome until they reach the minimum."""

    __tablename__ = "accumulators"

    account: Mapped[str] = mapped_column(String(ACCOUNT), primary_key=True)
    leader: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    token_id: Mapped[str] = mapped_column(String(TOKEN), primary_key=True)
    side: Mapped[str] = mapped_column(String(4), primary_key=True)
    notional: Mapped[int] = mapped_column(BigInteger)
    shares: Mapped[int] = mapped_column(BigInteger)
    fill_ids: Mapped[list[str]] = mapped_column(JSON)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class AuditRow(Base):
    """Who did what: orders, configuration changes, operator commands."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_account_time", "account", "at_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    account: Mapped[str | None] = mapped_column(String(ACCOUNT))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)

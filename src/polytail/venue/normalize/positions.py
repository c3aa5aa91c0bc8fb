"""Data API positions → records: `/positions`, `/closed-positions` (v1), `/v2/positions`.

These describe a wallet's holdings as the Data API sees them (leader portfolio value for
bankroll sizing, reconciliation, discovery). They are venue records, not ledger entries:
our own positions live in `domain.positions` and are booked from our fills.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypeVar

from polytail.domain.ids import Address, ConditionId, TokenId
from polytail.domain.money import Shares
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.common import (
    Row,
    address_of,
    decimal_of,
    first_of,
    optional_condition,
    optional_index,
    shares_of,
    timestamp_s,
    token_of,
)

ORIGIN: Final = "data-api positions"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WalletPosition:
    """An open (or redeemable) holding of one outcome by one wallet."""

    wallet: Address
    token_id: TokenId
    condition_id: ConditionId | None
    size: Shares
    avg_price: Decimal
    current_price: Decimal | None
    current_value: Decimal | None  # USD as reported (not exact money: a valuation)
    cash_pnl: Decimal | None
    realized_pnl: Decimal | None
    redeemable: bool
    mergeable: bool
    negative_risk: bool
    outcome: str
    outcome_index: int | None
    opposite_token_id: TokenId | None
    end_date: str
    title: str
    slug: str
    event_slug: str


@dataclass(frozen=True, slots=True)
class ClosedPosition:
    """A position the wallet closed (sold out or redeemed), with its realized PnL."""

    wallet: Address
    token_id: TokenId
    condition_id: ConditionId | None
    avg_price: Decimal
    total_bought: Shares
    realized_pnl: Decimal
    current_price: Decimal | None
    timestamp: int | None
    outcome: str
    outcome_index: int | None
    title: str
    slug: str
    event_slug: str


def _opt_decimal(row: Row, keys: tuple[str, ...], origin: str) -> Decimal | None:
    for key in keys:
        value = row.get(key)
        if value not in (None, ""):
            return decimal_of(value, key, origin, row)
    return None


def _text(row: Row, *keys: str) -> str:
    for key in keys:
        value = row.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def _opt_token(row: Row, keys: tuple[str, ...], origin: str) -> TokenId | None:
    for key in keys:
        value = row.get(key)
        if value not in (None, ""):
            return token_of(value, key, origin, row)
    return None


def position_row(row: Any) -> WalletPosition:
    """One v1 `/positions` or v2 `/v2/positions` row (camelCase or snake_case)."""
    if not isinstance(row, dict):
        raise MalformedRow(ORIGIN, "row", "is not an object", row)
    wallet_key, wallet = first_of(row, ("proxyWallet", "proxy_wallet"), ORIGIN)
    token_key, token = first_of(row, ("asset", "token_id"), ORIGIN)
    size_key, size = first_of(row, ("size", "current_size", "total_size"), ORIGIN)
    avg_key, avg = first_of(row, ("avgPrice", "avg_price"), ORIGIN)
    return WalletPosition(
        wallet=address_of(wallet, wallet_key, ORIGIN, row),
        token_id=token_of(token, token_key, ORIGIN, row),
        condition_id=optional_condition(row, ("conditionId", "condition_id"), ORIGIN),
        size=shares_of(size, size_key, ORIGIN, row),
        avg_price=decimal_of(avg, avg_key, ORIGIN, row),
        current_price=_opt_decimal(row, ("curPrice", "current_price"), ORIGIN),
        current_value=_opt_decimal(row, ("currentValue", "current_value"), ORIGIN),
        cash_pnl=_opt_decimal(row, ("cashPnl", "unrealized_pnl"), ORIGIN),
        realized_pnl=_opt_decimal(row, ("realizedPnl", "realized_pnl"), ORIGIN),
        redeemable=row.get("redeemable") is True,
        mergeable=row.get("mergeable") is True,
        negative_risk=(row.get("negativeRisk") or row.get("negative_risk")) is True,
        outcome=_text(row, "outcome"),
        outcome_index=optional_index(row, ("outcomeIndex", "outcome_index"), ORIGIN),
        opposite_token_id=_opt_token(row, ("oppositeAsset", "opposite_token_id"), ORIGIN),
        end_date=_text(row, "endDate", "end_date"),
        title=_text(row, "title"),
        slug=_text(row, "slug"),
        event_slug=_text(row, "eventSlug", "event_slug"),
    )


def closed_position_row(row: Any) -> ClosedPosition:
    """One v1 `/closed-positions` row (or a v2 `status=CLOSED` row)."""
    origin = "data-api closed-positions"
    if not isinstance(row, dict):
        raise MalformedRow(origin, "row", "is not an object", row)
    wallet_key, wallet = first_of(row, ("proxyWallet", "proxy_wallet"), origin)
    token_key, token = first_of(row, ("asset", "token_id"), origin)
    avg_key, avg = first_of(row, ("avgPrice", "avg_price"), origin)
    bought_key, bought = first_of(row, ("totalBought", "total_size", "total_bought"), origin)
    pnl_key, pnl = first_of(row, ("realizedPnl", "realized_pnl"), origin)
    stamp = row.get("timestamp") or row.get("last_event_at")
    return ClosedPosition(
        wallet=address_of(wallet, wallet_key, origin, row),
        token_id=token_of(token, token_key, origin, row),
        condition_id=optional_condition(row, ("conditionId", "condition_id"), origin),
        avg_price=decimal_of(avg, avg_key, origin, row),
        total_bought=shares_of(bought, bought_key, origin, row),
        realized_pnl=decimal_of(pnl, pnl_key, origin, row),
        current_price=_opt_decimal(row, ("curPrice", "current_price"), origin),
        timestamp=timestamp_s(stamp, "timestamp", origin, row) if stamp else None,
        outcome=_text(row, "outcome"),
        outcome_index=optional_index(row, ("outcomeIndex", "outcome_index"), origin),
        title=_text(row, "title"),
        slug=_text(row, "slug"),
        event_slug=_text(row, "eventSlug", "event_slug"),
    )


def parse_rows(
    rows: Iterable[Any], convert: Callable[[Any], T]
) -> tuple[list[T], list[MalformedRow]]:
    """Convert every row; malformed rows are returned for inspection, the rest go on."""
    parsed: list[T] = []
    rejects: list[MalformedRow] = []
    for row in rows:
        try:
            parsed.append(convert(row))
        except MalformedRow as error:
            rejects.append(error)
        except (ValueError, TypeError, ArithmeticError) as error:
            rejects.append(MalformedRow("row", "row", f"cannot be normalised: {error}", row))
    return parsed, rejects

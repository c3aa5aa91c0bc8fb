"""The record of what happened, rendered for the Data API (v1 and v2) and RTDS.

Every fill becomes rows here exactly once (one per wallet side of it), and every reader
(`/activity`, `/trades`, `/v2/...`, RTDS frames, positions) renders those same rows, so
one trade is told the same way everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from polytail.sim.markets import Market
from polytail.sim.money import UNIT, number, ratio_number

NON_TRADE_OUTCOME_INDEX = 999


@dataclass(frozen=True)
class Profile:
    name: str = ""
    pseudonym: str = ""
    bio: str = ""
    image: str = ""


@dataclass
class Row:
    """One Data API activity row: a wallet's side of a fill, or a non-trade event."""

    sequence: int
    wallet: str
    kind: str
    timestamp: int
    market: Market
    token_id: str
    side: str
    shares: int
    usdc: int
    tx_hash: str
    taker: bool = False

    @property
    def price(self) -> float:
        return ratio_number(self.usdc, self.shares)

    @property
    def outcome_index(self) -> int:
        return (
            self.market.outcome_index(self.token_id) if self.token_id else NON_TRADE_OUTCOME_INDEX
        )

    @property
    def outcome(self) -> str:
        return self.market.outcomes[self.outcome_index] if self.token_id else ""


@dataclass
class Basis:
    """Average-cost accounting of one wallet's position in one token."""

    shares: int = 0
    cost: int = 0
    bought: int = 0
    bought_cost: int = 0
    realized: int = 0
    last_event: int = 0
    first_entry: int = 0

    def buy(self, shares: int, usdc: int, when: int) -> None:
        if self.shares == 0 and self.first_entry == 0:
            self.first_entry = when
        self.shares += shares
        self.cost += usdc
        self.bought += shares
        self.bought_cost += usdc
        self.last_event = when

    def reduce(self, shares: int, proceeds: int, when: int) -> None:
        shares = min(shares, self.shares)
        released = self.cost * shares // self.shares if self.shares else 0
        self.realized += proceeds - released
        self.cost -= released
        self.shares -= shares
        self.last_event = when

    @property
    def avg_price(self) -> float:
        return ratio_number(self.cost, self.shares) if self.shares else 0.0


@dataclass
class Tape:
    rows: list[Row] = field(default_factory=list)
    basis: dict[tuple[str, str], Basis] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        key = (row.wallet.lower(), row.token_id)
        if row.kind == "TRADE":
            basis = self.basis.setdefault(key, Basis())
            if row.side == "BUY":
                basis.buy(row.shares, row.usdc, row.timestamp)
            else:
                basis.reduce(row.shares, row.usdc, row.timestamp)

    def redeem(self, wallet: str, token_id: str, shares: int, paid: int, when: int) -> None:
        basis = self.basis.setdefault((wallet.lower(), token_id), Basis())
        basis.reduce(shares, paid, when)

    def profile(self, wallet: str) -> Profile:
        return self.profiles.get(wallet.lower(), Profile())


def activity_v1(row: Row, profile: Profile) -> dict[str, Any]:
    trade = row.kind == "TRADE"
    return {
        "proxyWallet": row.wallet.lower(),
        "timestamp": row.timestamp,
        "conditionId": row.market.condition_id if trade else "",
        "type": row.kind,
        "size": number(row.shares),
        "usdcSize": number(row.usdc),
        "transactionHash": row.tx_hash,
        "price": row.price if trade else 0,
        "asset": row.token_id,
        "side": row.side,
        "outcomeIndex": row.outcome_index,
        "title": row.market.question,
        "slug": row.market.slug,
        "icon": row.market.icon if trade else "",
        "eventSlug": row.market.event_slug(),
        "outcome": row.outcome,
        **_profile_v1(profile),
    }


def trade_v1(row: Row, profile: Profile) -> dict[str, Any]:
    return {
        "proxyWallet": row.wallet.lower(),
        "side": row.side,
        "asset": row.token_id,
        "conditionId": row.market.condition_id,
        "size": number(row.shares),
        "price": row.price,
        "timestamp": row.timestamp,
        "title": row.market.question,
        "slug": row.market.slug,
        "icon": row.market.icon,
        "eventSlug": row.market.event_slug(),
        "outcome": row.outcome,
        "outcomeIndex": row.outcome_index,
        **_profile_v1(profile),
        "transactionHash": row.tx_hash,
    }


def rtds_payload(row: Row, profile: Profile) -> dict[str, Any]:
    """An RTDS `activity`/`trades` payload (polymarket-api.md §5.3); timestamp in seconds."""
    return {
        "asset": row.token_id,
        "conditionId": row.market.condition_id,
        "eventSlug": row.market.event_slug(),
        "slug": row.market.slug,
        "title": row.market.question,
        "icon": row.market.icon,
        "outcome": row.outcome,
        "outcomeIndex": row.outcome_index,
        "price": row.price,
        "side": row.side,
        "size": number(row.shares),
        "timestamp": row.timestamp,
        "transactionHash": row.tx_hash,
        "proxyWallet": row.wallet.lower(),
        "name": profile.name,
        "pseudonym": profile.pseudonym,
        "bio": profile.bio,
        "profileImage": profile.image,
    }


def activity_v2(row: Row, profile: Profile) -> dict[str, Any]:
    trade = row.kind == "TRADE"
    return {
        "type": row.kind,
        "proxy_wallet": row.wallet.lower(),
        "timestamp": row.timestamp,
        "transaction_hash": row.tx_hash,
        "condition_id": row.market.condition_id,
        "token_id": row.token_id,
        "side": row.side,
        "size": number(row.shares),
        "usdc_size": number(row.usdc),
        "price": row.price if trade else 0,
        "outcome": row.outcome,
        "outcome_index": row.outcome_index,
        "title": row.market.question,
        "slug": row.market.slug,
        "icon": row.market.icon,
        "event_slug": row.market.event_slug(),
        **_profile_v2(profile),
        "is_combo": False,
    }


def trade_v2(row: Row, profile: Profile) -> dict[str, Any]:
    return {
        "proxy_wallet": row.wallet.lower(),
        "token_id": row.token_id,
        "condition_id": row.market.condition_id,
        "side": row.side,
        "size": number(row.shares),
        "price": row.price,
        "timestamp": row.timestamp,
        "transaction_hash": row.tx_hash,
        "title": row.market.question,
        "slug": row.market.slug,
        "icon": row.market.icon,
        "event_slug": row.market.event_slug(),
        "outcome": row.outcome,
        "outcome_index": row.outcome_index,
        **_profile_v2(profile),
    }


@dataclass(frozen=True)
class Holding:
    wallet: str
    market: Market
    token_id: str
    shares: int
    basis: Basis
    price: int
    """Current price in micros (the payout once resolved)."""


def _holding_figures(holding: Holding) -> dict[str, float | int]:
    basis = holding.basis
    initial = basis.cost
    current = holding.shares * holding.price // UNIT
    cash_pnl = current - initial
    return {
        "size": number(holding.shares),
        "avgPrice": round(basis.avg_price, 4),
        "initialValue": number(initial),
        "currentValue": number(current),
        "cashPnl": number(cash_pnl),
        "percentPnl": round(100 * cash_pnl / initial, 4) if initial else 0,
        "totalBought": number(basis.bought),
        "realizedPnl": number(basis.realized),
        "percentRealizedPnl": round(100 * basis.realized / initial, 4) if initial else 0,
        "curPrice": number(holding.price),
    }


def _opposite(holding: Holding) -> tuple[str, str]:
    market = holding.market
    if len(market.token_ids) != 2:
        return "", ""
    other = 1 - market.outcome_index(holding.token_id)
    return market.outcomes[other], market.token_ids[other]


def position_v1(holding: Holding) -> dict[str, Any]:
    market = holding.market
    opposite_outcome, opposite_asset = _opposite(holding)
    return {
        "proxyWallet": holding.wallet.lower(),
        "asset": holding.token_id,
        "conditionId": market.condition_id,
        **_holding_figures(holding),
        "redeemable": market.closed,
        "mergeable": False,
        "title": market.question,
        "slug": market.slug,
        "icon": market.icon,
        "eventId": market.event.id if market.event else "",
        "eventSlug": market.event_slug(),
        "outcome": market.outcomes[market.outcome_index(holding.token_id)],
        "outcomeIndex": market.outcome_index(holding.token_id),
        "oppositeOutcome": opposite_outcome,
        "oppositeAsset": opposite_asset,
        "endDate": _date(market.end_ts),
        "negativeRisk": market.neg_risk,
    }


def closed_position_v1(holding: Holding) -> dict[str, Any]:
    market = holding.market
    opposite_outcome, opposite_asset = _opposite(holding)
    return {
        "proxyWallet": holding.wallet.lower(),
        "asset": holding.token_id,
        "conditionId": market.condition_id,
        "avgPrice": round(ratio_number(holding.basis.bought_cost, holding.basis.bought), 4),
        "totalBought": number(holding.basis.bought),
        "realizedPnl": number(holding.basis.realized),
        "curPrice": number(holding.price),
        "title": market.question,
        "slug": market.slug,
        "icon": market.icon,
        "eventSlug": market.event_slug(),
        "outcome": market.outcomes[market.outcome_index(holding.token_id)],
        "outcomeIndex": market.outcome_index(holding.token_id),
        "oppositeOutcome": opposite_outcome,
        "oppositeAsset": opposite_asset,
        "endDate": _iso_date(market.end_ts),
        "timestamp": holding.basis.last_event,
    }


def position_v2(holding: Holding, profile: Profile) -> dict[str, Any]:
    market = holding.market
    basis = holding.basis
    figures = _holding_figures(holding)
    opposite_outcome, opposite_asset = _opposite(holding)
    unrealized = holding.shares * holding.price // UNIT - basis.cost
    if holding.shares == 0:
        status = "CLOSED"
    elif market.closed:
        status = "REDEEMABLE" if holding.price > 0 else "REDEEMABLE_LOST"
    else:
        status = "OPEN"
    return {
        "proxy_wallet": holding.wallet.lower(),
        "token_id": holding.token_id,
        "condition_id": market.condition_id,
        "current_size": number(holding.shares),
        "avg_price": figures["avgPrice"],
        "entry_cost_usdc": number(basis.cost),
        "entry_fees_usdc": 0,
        "total_cost_usdc": number(basis.cost),
        "current_price": number(holding.price),
        "current_value": figures["currentValue"],
        "total_size": number(basis.bought),
        "realized_pnl": number(basis.realized),
        "unrealized_pnl": number(unrealized),
        "total_pnl": number(basis.realized + unrealized),
        "percent_pnl": figures["percentPnl"],
        "percent_realized_pnl": figures["percentRealizedPnl"],
        "status": status,
        "redeemable": market.closed and holding.shares > 0,
        "mergeable": False,
        "negative_risk": market.neg_risk,
        "archived": False,
        "verified": False,
        "title": market.question,
        "slug": market.slug,
        "icon": market.icon,
        "event_slug": market.event_slug(),
        "outcome": market.outcomes[market.outcome_index(holding.token_id)],
        "opposite_outcome": opposite_outcome,
        "opposite_token_id": opposite_asset,
        "outcome_index": market.outcome_index(holding.token_id),
        "event_id": market.event.id if market.event else None,
        "end_date": _date(market.end_ts),
        "last_event_at": basis.last_event,
        "name": profile.name,
        "profile_image": profile.image,
    }


def _profile_v1(profile: Profile) -> dict[str, str]:
    return {
        "name": profile.name,
        "pseudonym": profile.pseudonym,
        "bio": profile.bio,
        "profileImage": profile.image,
        "profileImageOptimized": "",
    }


def _profile_v2(profile: Profile) -> dict[str, str]:
    return {
        "name": profile.name,
        "pseudonym": profile.pseudonym,
        "bio": profile.bio,
        "profile_image": profile.image,
        "profile_image_optimized": "",
    }


def _date(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d")


def _iso_date(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

"""Valuation: equity, unrealized PnL and drawdown, for the account and for each leader.

Marks are an input (book mids, last trades, whatever the caller trusts), so valuation is
reproducible in a backtest. A resolved position is worth exactly its claim, whatever the
book says. An open position without a mark is valued at its cost (unrealized 0): an
unknown price neither flatters nor punishes, and the caller can see which tokens lacked a
mark in `Valuation.unmarked`.

The policy's breakers read `drawdown_pct` (account) and each leader's `drawdown`, in pUSD
from that leader's best PnL; the policy divides by the leader's budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from polytail.domain.ids import Address, TokenId
from polytail.domain.ledger import Holding, HoldingStatus
from polytail.domain.money import Price, Rounding, Usdc, proceeds_of
from polytail.domain.positions import Lot
from polytail.portfolio.ledger import Ledger


@dataclass(frozen=True, slots=True)
class LeaderValuation:
    leader: Address
    open_cost: Usdc
    market_value: Usdc
    realized_pnl: Usdc
    peak_pnl: Usdc

    @property
    def unrealized_pnl(self) -> Usdc:
        return self.market_value - self.open_cost

    @property
    def pnl(self) -> Usdc:
        return self.realized_pnl + self.unrealized_pnl

    @property
    def drawdown(self) -> Usdc:
        """How far this leader's PnL is below its best (0 at a new high)."""
        return (self.peak_pnl - self.pnl).max(Usdc(0))


@dataclass(frozen=True, slots=True)
class Valuation:
    at_ms: int
    cash: Usdc
    open_cost: Usdc
    market_value: Usdc
    realized_pnl: Usdc
    peak_equity: Usdc
    leaders: Mapping[Address, LeaderValuation]
    unmarked: tuple[TokenId, ...] = ()

    @property
    def unrealized_pnl(self) -> Usdc:
        return self.market_value - self.open_cost

    @property
    def equity(self) -> Usdc:
        return self.cash + self.market_value

    @property
    def drawdown(self) -> Usdc:
        return (self.peak_equity - self.equity).max(Usdc(0))

    @property
    def drawdown_pct(self) -> Decimal:
        """Drawdown from peak equity in percent (0 when there has been no peak)."""
        if not self.peak_equity.is_positive:
            return Decimal(0)
        return Decimal(100) * Decimal(self.drawdown.units) / Decimal(self.peak_equity.units)


def _lot_value(holding: Holding, lot: Lot, mark: Price | None) -> Usdc:
    if holding.status is HoldingStatus.RESOLVED and holding.payout_per_share is not None:
        return Usdc(lot.shares.scale_by(holding.payout_per_share, Rounding.DOWN).units)
    if mark is None:
        return lot.cost
    return proceeds_of(lot.shares, mark)


def mark(ledger: Ledger, marks: Mapping[TokenId, Price], at_ms: int) -> Valuation:
    """Value the ledger at `marks`, and raise its recorded peaks where this is a new high.

    Persist the peaks afterwards (`LedgerRepository.save_peaks`) so drawdown survives a
    restart.
    """
    market_value = 0
    unmarked: list[TokenId] = []
    per_leader: dict[Address, tuple[int, int]] = {}
    for holding in ledger.holdings():
        price = marks.get(holding.token_id)
        if price is None and holding.status is HoldingStatus.OPEN:
            unmarked.append(holding.token_id)
        for leader, lot in holding.position.lots.items():
            if not lot.shares.is_positive:
                continue
            value = _lot_value(holding, lot, price).units
            market_value += value
            cost, worth = per_leader.get(leader, (0, 0))
            per_leader[leader] = (cost + lot.cost.units, worth + value)
    totals = ledger.totals
    equity = totals.cash + Usdc(market_value)
    leader_pnl: dict[Address, Usdc] = {}
    for pnl in ledger.leaders():
        per_leader.setdefault(pnl.leader, (0, 0))
    for leader, (cost, worth) in per_leader.items():
        leader_pnl[leader] = ledger.leader_pnl(leader).realized_pnl + Usdc(worth - cost)
    ledger.raise_peaks(equity, leader_pnl)
    leaders = {
        leader: LeaderValuation(
            leader=leader,
            open_cost=Usdc(cost),
            market_value=Usdc(worth),
            realized_pnl=ledger.leader_pnl(leader).realized_pnl,
            peak_pnl=ledger.leader_pnl(leader).peak_pnl,
        )
        for leader, (cost, worth) in sorted(per_leader.items())
    }
    return Valuation(
        at_ms=at_ms,
        cash=totals.cash,
        open_cost=ledger.open_cost,
        market_value=Usdc(market_value),
        realized_pnl=ledger.totals.realized_pnl,
        peak_equity=ledger.totals.peak_equity,
        leaders=leaders,
        unmarked=tuple(unmarked),
    )

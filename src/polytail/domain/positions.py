"""Positions with attribution per leader.

Every share we hold is attributed to the leader whose fill we copied to buy it (or to
`UNATTRIBUTED` when it came from elsewhere, e.g. found at reconciliation). Exits are
booked against the selling leader's lot only: a leader that sells 40 % of its position
makes us sell 40 % of the shares we bought copying *that* leader, and never shares that
another leader's copies paid for.

Cost basis includes the fees paid to acquire the shares, so realized PnL is net of fees
and `cash + open cost basis == deposits + realized PnL` holds after every event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Final

from polytail.domain.ids import AccountId, Address, ConditionId, TokenId
from polytail.domain.money import Rounding, Shares, Usdc

UNATTRIBUTED: Final = Address("unattributed")
"""Attribution of shares no leader's copy bought."""


class InsufficientShares(ValueError):
    """A sale asked for more shares than the lot (or position) holds."""


@dataclass(frozen=True, slots=True)
class Lot:
    """The shares attributed to one leader and what they cost (fees included)."""

    shares: Shares
    cost: Usdc

    def take(self, shares: Shares) -> tuple[Lot, Usdc]:
        """Remove `shares` from the lot; returns the rest and the cost basis removed.

        The removed cost rounds up, so realized profit is never overstated; the lot keeps
        exactly the remainder, so cost is conserved to the base unit. Taking the whole lot
        removes its whole cost.
        """
        if shares.units < 0:
            raise InsufficientShares("cannot take a negative quantity")
        if shares > self.shares:
            raise InsufficientShares(f"lot holds {self.shares} shares, asked for {shares}")
        if shares == self.shares:
            return Lot(Shares(0), Usdc(0)), self.cost
        removed = self.cost.scale(shares.units, self.shares.units, Rounding.UP).min(self.cost)
        return Lot(self.shares - shares, self.cost - removed), removed


@dataclass(frozen=True, slots=True)
class Position:
    """One account's holding of one outcome, split into lots by leader."""

    account: AccountId
    token_id: TokenId
    condition_id: ConditionId
    outcome_index: int
    lots: Mapping[Address, Lot] = field(default_factory=dict)
    realized_pnl: Usdc = Usdc(0)
    fees_paid: Usdc = Usdc(0)

    @property
    def shares(self) -> Shares:
        total = 0
        for lot in self.lots.values():
            total += lot.shares.units
        return Shares(total)

    @property
    def cost(self) -> Usdc:
        total = 0
        for lot in self.lots.values():
            total += lot.cost.units
        return Usdc(total)

    @property
    def is_flat(self) -> bool:
        return all(lot.shares.units == 0 for lot in self.lots.values())

    @property
    def average_cost(self) -> Decimal | None:
        shares = self.shares
        return None if shares.units == 0 else Decimal(self.cost.units) / Decimal(shares.units)

    def held_for(self, leader: Address) -> Shares:
        lot = self.lots.get(leader)
        return lot.shares if lot is not None else Shares(0)

    def bought(self, leader: Address, shares: Shares, notional: Usdc, fee: Usdc) -> Position:
        """Add a buy fill to `leader`'s lot."""
        if shares.units <= 0:
            raise ValueError("a buy must add a positive quantity")
        current = self.lots.get(leader, Lot(Shares(0), Usdc(0)))
        lots = dict(self.lots)
        lots[leader] = Lot(current.shares + shares, current.cost + notional + fee)
        return replace(self, lots=lots, fees_paid=self.fees_paid + fee)

    def sold(
        self, leader: Address, shares: Shares, proceeds: Usdc, fee: Usdc
    ) -> tuple[Position, Usdc]:
        """Remove a sell fill from `leader`'s lot; returns the position and realized PnL."""
        lot = self.lots.get(leader)
        if lot is None or shares > lot.shares:
            held = lot.shares if lot is not None else Shares(0)
            raise InsufficientShares(
                f"{self.token_id}: selling {shares} shares for {leader}, but only {held} held"
            )
        rest, removed_cost = lot.take(shares)
        realized = proceeds - fee - removed_cost
        lots = dict(self.lots)
        lots[leader] = rest
        return (
            replace(
                self,
                lots=lots,
                realized_pnl=self.realized_pnl + realized,
                fees_paid=self.fees_paid + fee,
            ),
            realized,
        )

    def redeemed(self, payout: Usdc) -> tuple[Position, dict[Address, Usdc]]:
        """Close every lot against a redemption that paid `payout` in total.

        The payout is split across lots in proportion to their shares (the remainder of
        the integer split goes to the largest lot, so the parts sum exactly to `payout`).
        Returns the flat position and the realized PnL per leader.
        """
        total_shares = self.shares.units
        holders = sorted(
            (item for item in self.lots.items() if item[1].shares.units > 0),
            key=lambda item: (item[1].shares.units, item[0]),
        )
        realized: dict[Address, Usdc] = {}
        allocated = 0
        for position, (leader, lot) in enumerate(holders):
            if position == len(holders) - 1:
                part = payout.units - allocated
            else:
                part = payout.units * lot.shares.units // total_shares
            allocated += part
            realized[leader] = Usdc(part) - lot.cost
        total = Usdc(sum(value.units for value in realized.values()))
        empty = {leader: Lot(Shares(0), Usdc(0)) for leader in self.lots}
        return replace(self, lots=empty, realized_pnl=self.realized_pnl + total), realized

    def market_value(self, mark: Decimal) -> Usdc:
        """Shares valued at `mark` (a price in [0, 1]), rounded down: never flattering."""
        return Usdc(self.shares.scale_by(mark, Rounding.DOWN).units)

    def unrealized_pnl(self, mark: Decimal) -> Usdc:
        return self.market_value(mark) - self.cost

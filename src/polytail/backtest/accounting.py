"""Hold-to-resolution accounting, the same for a leader's fills and the follower's trades.

A position is one (wallet, outcome token). Buys cost their notional plus fees, sales
bring their notional less fees, and whatever is still held at the end is paid at the
market's resolution payout (or, for a market the metadata does not resolve, valued at
the last traded price and listed as unresolved). PnL = proceeds - cost + held x payout.

A leader's recorded history usually starts in the middle of its life (the Data API
returns at most a few thousand rows), so a leader may sell shares it bought before the
history begins. Their cost is unknown and no copier could have held them, so such a
sale counts only against the shares bought within the history; the rest is reported as
*uncovered* (count, shares, proceeds, and what it would add if counted as a sale of
shares valued at the payout). The follower can never sell what it does not hold, so its
trades are never uncovered, and a copy of the leader at ratio 1 reproduces exactly the
covered PnL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from polytail.domain.fills import LeaderFill, Side
from polytail.domain.ids import Address, ConditionId, TokenId

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Trade:
    """One trade of a wallet, amounts in exact pUSD and shares."""

    wallet: Address
    condition: ConditionId | None
    token: TokenId
    side: Side
    shares: Decimal
    notional: Decimal  # fees excluded
    fee: Decimal
    at_ms: int

    @classmethod
    def of_leader(cls, fill: LeaderFill, condition: ConditionId | None, at_ms: int) -> Trade:
        """The leader's own fill at its reported price (shares x price, not rounded)."""
        return cls(
            wallet=fill.wallet,
            condition=condition,
            token=fill.token_id,
            side=fill.side,
            shares=fill.size.to_decimal(),
            notional=fill.size.to_decimal() * fill.price,
            fee=fill.fee.to_decimal() if fill.fee is not None else ZERO,
            at_ms=at_ms,
        )


@dataclass(slots=True)
class Position:
    wallet: Address
    condition: ConditionId | None
    token: TokenId
    bought: Decimal = ZERO  # shares
    bought_notional: Decimal = ZERO
    sold: Decimal = ZERO  # shares (covered)
    sold_notional: Decimal = ZERO
    fees: Decimal = ZERO
    uncovered_fills: int = 0
    uncovered_shares: Decimal = ZERO
    uncovered_notional: Decimal = ZERO
    opened_ms: int | None = None
    emptied_ms: int | None = None  # when a sale last brought the holding to zero
    # settled by `settle`:
    payout: Decimal | None = None  # per share; None: the market did not resolve
    mark: Decimal | None = None  # per share, for unresolved markets
    value: Decimal = ZERO  # what the end holding is worth
    settled_ms: int | None = None

    @property
    def held(self) -> Decimal:
        return self.bought - self.sold

    @property
    def pnl(self) -> Decimal:
        return self.sold_notional - self.bought_notional - self.fees + self.value

    @property
    def resolved(self) -> bool:
        return self.payout is not None

    @property
    def holding_ms(self) -> int | None:
        """From the first buy to the last sale that emptied it, else to settlement."""
        if self.opened_ms is None:
            return None
        end = self.emptied_ms if self.held == 0 and self.emptied_ms else self.settled_ms
        return None if end is None else max(0, end - self.opened_ms)

    @property
    def uncovered_effect(self) -> Decimal:
        """What the uncovered sales would add to PnL if counted against shares valued at
        the payout (or mark) - the number a naive join of fills to winners gives."""
        per_share = self.payout if self.payout is not None else self.mark
        if per_share is None or not self.uncovered_shares:
            return ZERO
        return self.uncovered_notional - self.uncovered_shares * per_share

    def apply(self, trade: Trade) -> tuple[Decimal, Decimal]:
        """Book one trade; returns the shares and notional that counted (a sale beyond
        the holding counts only for the covered part)."""
        self.fees += trade.fee
        if trade.side is Side.BUY:
            if self.opened_ms is None:
                self.opened_ms = trade.at_ms
            self.bought += trade.shares
            self.bought_notional += trade.notional
            return trade.shares, trade.notional
        covered = min(trade.shares, self.held)
        proceeds = trade.notional
        if covered < trade.shares:
            short = trade.shares - covered
            proceeds = trade.notional * covered / trade.shares
            self.uncovered_fills += 1
            self.uncovered_shares += short
            self.uncovered_notional += trade.notional - proceeds
        if covered > 0:
            self.sold += covered
            self.sold_notional += proceeds
            if self.held == 0:
                self.emptied_ms = trade.at_ms
        return covered, proceeds


@dataclass
class Book:
    """Positions by (wallet, token), in the order they were opened."""

    positions: dict[tuple[Address, TokenId], Position] = field(default_factory=dict)

    def apply(self, trade: Trade) -> tuple[Decimal, Decimal]:
        key = (trade.wallet, trade.token)
        position = self.positions.get(key)
        if position is None:
            position = self.positions[key] = Position(trade.wallet, trade.condition, trade.token)
        elif position.condition is None:
            position.condition = trade.condition
        return position.apply(trade)

    def settle(
        self,
        payout: Callable[[TokenId], Decimal | None],
        mark: Callable[[TokenId], Decimal | None],
        settled_ms: Callable[[Position], int],
    ) -> None:
        """Value every end holding: the resolution payout, else the last traded price."""
        for position in self.positions.values():
            position.payout = payout(position.token)
            position.mark = None if position.payout is not None else mark(position.token)
            per_share = position.payout if position.payout is not None else position.mark
            position.value = position.held * (per_share or ZERO)
            position.settled_ms = settled_ms(position)

    def select(self, wallet: Address | None = None) -> list[Position]:
        return [p for p in self.positions.values() if wallet is None or p.wallet == wallet]


def book_of(trades: Iterable[Trade]) -> Book:
    book = Book()
    for trade in trades:
        book.apply(trade)
    return book


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over a set of positions."""

    pnl: Decimal
    bought: Decimal  # notional of buys: the capital deployed
    sold: Decimal
    fees: Decimal
    positions: int
    wins: int
    unresolved: int
    uncovered_fills: int
    uncovered_shares: Decimal
    uncovered_notional: Decimal
    uncovered_effect: Decimal
    holding_ms: tuple[int, ...]

    @property
    def volume(self) -> Decimal:
        return self.bought + self.sold

    @property
    def roi(self) -> Decimal | None:
        return self.pnl / self.bought if self.bought else None

    @property
    def win_rate(self) -> Decimal | None:
        return Decimal(self.wins) / Decimal(self.positions) if self.positions else None


def totals(positions: Iterable[Position]) -> Totals:
    chosen = list(positions)
    opened = [p for p in chosen if p.bought > 0]
    holding = sorted(h for p in opened if (h := p.holding_ms) is not None)
    return Totals(
        pnl=sum((p.pnl for p in chosen), ZERO),
        bought=sum((p.bought_notional for p in chosen), ZERO),
        sold=sum((p.sold_notional for p in chosen), ZERO),
        fees=sum((p.fees for p in chosen), ZERO),
        positions=len(opened),
        wins=sum(1 for p in opened if p.pnl > 0),
        unresolved=sum(1 for p in chosen if not p.resolved and p.held > 0),
        uncovered_fills=sum(p.uncovered_fills for p in chosen),
        uncovered_shares=sum((p.uncovered_shares for p in chosen), ZERO),
        uncovered_notional=sum((p.uncovered_notional for p in chosen), ZERO),
        uncovered_effect=sum((p.uncovered_effect for p in chosen), ZERO),
        holding_ms=tuple(holding),
    )


def by_condition(positions: Iterable[Position]) -> dict[ConditionId | None, list[Position]]:
    grouped: dict[ConditionId | None, list[Position]] = {}
    for position in positions:
        grouped.setdefault(position.condition, []).append(position)
    return grouped

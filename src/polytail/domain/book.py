"""Order-book snapshots and the book walk shared by policy checks and paper fills.

Levels are stored best-first on both sides. The venue's `/book` sorts bids ascending and
asks descending (best LAST); the venue layer reverses them once, so nothing above it can
mistake the worst level for the touch.

The walk is the single definition of "what would this order get right now": the policy's
depth and slippage checks, the paper broker and the backtest all call it, so paper fills
and the checks that allowed them can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from polytail.domain.ids import TokenId
from polytail.domain.money import (
    SCALE,
    MoneyError,
    Price,
    Shares,
    Usdc,
    cost_of,
    proceeds_of,
    shares_for,
)


class BookError(ValueError):
    """A book snapshot violates its own ordering or contains impossible levels."""


@dataclass(frozen=True, slots=True)
class Level:
    price: Price
    size: Shares


@dataclass(frozen=True, slots=True)
class Walk:
    """Result of walking one side of a book.

    `notional` is what the taker pays (buys, per-level rounded up) or receives (sells,
    per-level rounded down). `complete` says whether the whole request was available
    within the limit price: a FOK order fills only when it is.
    """

    shares: Shares
    notional: Usdc
    worst_price: Price | None
    levels: int
    complete: bool

    @property
    def average_price(self) -> Decimal | None:
        if self.shares.units == 0:
            return None
        return Decimal(self.notional.units) / Decimal(self.shares.units)


@dataclass(frozen=True, slots=True)
class OrderBook:
    token_id: TokenId
    bids: tuple[Level, ...]  # best (highest) first
    asks: tuple[Level, ...]  # best (lowest) first
    timestamp_ms: int = 0
    tick: Price | None = None
    min_size: Shares | None = None

    def __post_init__(self) -> None:
        for side, levels, descending in (("bids", self.bids, True), ("asks", self.asks, False)):
            for level in levels:
                if level.size.units <= 0:
                    raise BookError(f"{side} level at {level.price} has non-positive size")
            for better, worse in pairwise(levels):
                ordered = better.price > worse.price if descending else better.price < worse.price
                if not ordered:
                    raise BookError(f"{side} are not sorted best-first at {worse.price}")

    @property
    def best_bid(self) -> Price | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Price | None:
        return self.asks[0].price if self.asks else None

    @property
    def is_crossed(self) -> bool:
        bid, ask = self.best_bid, self.best_ask
        return bid is not None and ask is not None and bid >= ask

    @property
    def spread(self) -> Price | None:
        """Best ask minus best bid, or None when either side is empty."""
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None:
            return None
        return Price(max(0, ask.micros - bid.micros))

    @property
    def mid(self) -> Decimal | None:
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None:
            return None
        return (bid.to_decimal() + ask.to_decimal()) / 2

    # --- walks ---------------------------------------------------------------------------
    def buy_shares(self, shares: Shares, limit: Price | None = None) -> Walk:
        """Take asks best-first for up to `shares`, never above `limit`."""
        return _walk_for_shares(self.asks, shares, limit, buying=True)

    def sell_shares(self, shares: Shares, limit: Price | None = None) -> Walk:
        """Hit bids best-first for up to `shares`, never below `limit`."""
        return _walk_for_shares(self.bids, shares, limit, buying=False)

    def buy_with(self, amount: Usdc, limit: Price | None = None) -> Walk:
        """Spend up to `amount` pUSD on asks best-first (a market BUY), never above `limit`.

        Shares bought at each level round down, so the walk never spends more than
        `amount`; leftover dust that cannot buy a whole base unit stays unspent.
        """
        if amount.units < 0:
            raise MoneyError("cannot spend a negative amount")
        remaining = amount
        filled = Shares(0)
        spent = Usdc(0)
        worst: Price | None = None
        used = 0
        liquidity_ran_out = True  # stays True only if the levels, not the money, ran out
        for level in self.asks:
            if limit is not None and level.price > limit:
                break
            take = shares_for(remaining, level.price).min(level.size)
            cost = cost_of(take, level.price)
            while cost > remaining and take.units > 0:  # rounding up can overshoot one unit
                take = Shares(take.units - 1)
                cost = cost_of(take, level.price)
            if take.units <= 0:
                liquidity_ran_out = False  # what is left is dust at this price
                break
            filled, spent, remaining = filled + take, spent + cost, remaining - cost
            worst, used = level.price, used + 1
            if take < level.size:
                liquidity_ran_out = False
                break
        complete = (
            not liquidity_ran_out
            or remaining.units == 0
            or (worst is not None and shares_for(remaining, worst).units == 0)
        )
        return Walk(filled, spent, worst, used, complete)

    def depth(self, side: str, limit: Price) -> tuple[Shares, Usdc]:
        """Shares and notional available on `side` ("asks" or "bids") within `limit`.

        The notional is each level's `cost_of` (rounded up per level), summed in
        integers.
        """
        shares, notional = self.depth_units(side, limit.micros)
        return Shares(shares), Usdc(notional)

    def depth_units(self, side: str, limit_micros: int) -> tuple[int, int]:
        """`depth` in base units: the policy calls this on every decision and needs
        the integers (building the amounts it does not keep costs more than the walk)."""
        asks = side == "asks"
        bound = limit_micros
        total_shares = total_notional = 0
        for level in self.asks if asks else self.bids:
            micros = level.price.micros
            if (micros > bound) if asks else (micros < bound):
                break
            units = level.size.units
            total_shares += units
            total_notional += -(-units * micros // SCALE)
        return total_shares, total_notional


def _walk_for_shares(
    levels: tuple[Level, ...], wanted: Shares, limit: Price | None, *, buying: bool
) -> Walk:
    if wanted.units < 0:
        raise MoneyError("cannot walk a negative quantity")
    remaining = wanted
    filled = Shares(0)
    notional = Usdc(0)
    worst: Price | None = None
    used = 0
    for level in levels:
        if remaining.units <= 0:
            break
        if limit is not None and (level.price > limit if buying else level.price < limit):
            break
        take = level.size.min(remaining)
        notional = notional + (
            cost_of(take, level.price) if buying else proceeds_of(take, level.price)
        )
        filled, remaining = filled + take, remaining - take
        worst, used = level.price, used + 1
    return Walk(filled, notional, worst, used, remaining.units == 0)

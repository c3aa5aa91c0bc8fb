"""The stated price model: what a copy pays where no recorded book exists.

There are no order books for most recorded histories, so a backtest must say what a
copy would have paid. The model is deliberately simple and printed in every report:

- the *reference price* of a token is the last price the tape printed there by the time
  the copy reaches the market (with zero latency: the leader's own fill price);
- a copy pays the reference price moved `slippage_bps` against it (a BUY pays more, a
  SELL receives less): that is the half-spread plus slippage a copier pays;
- `depth_usdc` (optional) bounds the liquidity: the first level holds that much pUSD,
  and each further level (up to `levels`) is `impact_bps` worse and holds as much again.
  Without it the first level is unlimited.

`book` turns this into a synthetic `OrderBook` the policy and the paper broker read like
any other book. Book prices are micro-units, so levels round against the taker (asks
up, bids down to the micro-unit); the ideal venue (`backtest.ideal`) fills at the exact
decimal `price` instead, so a zero-slippage copy pays exactly the leader's price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Final

from polytail.domain.book import Level, OrderBook
from polytail.domain.fills import Side
from polytail.domain.ids import TokenId
from polytail.domain.money import PRICE_ONE, SCALE, Price, Shares

UNLIMITED: Final = Shares(10**9 * SCALE)
"""The size of a level without a depth bound: more than any copy can take."""

_BPS: Final = Decimal(10_000)
_MICRO: Final = Decimal(1).scaleb(-6)


@dataclass(frozen=True, slots=True)
class PriceModel:
    slippage_bps: int = 0
    depth_usdc: Decimal | None = None
    impact_bps: int = 100
    levels: int = 20

    def __post_init__(self) -> None:
        if not 0 <= self.slippage_bps < 10_000:
            raise ValueError(f"slippage must be in [0, 10000) bps, got {self.slippage_bps}")
        if self.depth_usdc is not None and self.depth_usdc <= 0:
            raise ValueError(f"depth must be positive, got {self.depth_usdc}")
        if self.impact_bps < 0 or self.levels < 1:
            raise ValueError("impact_bps must be >= 0 and levels >= 1")

    def price(self, reference: Decimal, side: Side, level: int = 0) -> Decimal:
        """The exact price of `level` for a taker on `side`, within [0, 1]."""
        bps = self.slippage_bps + level * self.impact_bps
        factor = (_BPS + bps) / _BPS if side is Side.BUY else (_BPS - bps) / _BPS
        return min(max(reference * factor, Decimal(0)), Decimal(1))

    def book(self, token: TokenId, reference: Decimal, *, at_ms: int) -> OrderBook:
        """The synthetic book around `reference` (asks for buyers, bids for sellers)."""
        count = 1 if self.depth_usdc is None else self.levels
        return OrderBook(
            token_id=token,
            bids=self._side(reference, Side.SELL, count),
            asks=self._side(reference, Side.BUY, count),
            timestamp_ms=at_ms,
        )

    def _side(self, reference: Decimal, taker: Side, count: int) -> tuple[Level, ...]:
        rounding = ROUND_CEILING if taker is Side.BUY else ROUND_FLOOR
        merged: dict[int, int] = {}
        for level in range(count):
            exact = self.price(reference, taker, level)
            micros = int(exact.quantize(_MICRO, rounding=rounding).scaleb(6))
            if micros <= 0 or micros > PRICE_ONE:
                continue
            merged[micros] = merged.get(micros, 0) + self._size(micros)
        ordered = sorted(merged.items(), reverse=taker is Side.SELL)
        return tuple(Level(Price(micros), Shares(units)) for micros, units in ordered)

    def _size(self, micros: int) -> int:
        if self.depth_usdc is None:
            return UNLIMITED.units
        return max(1, int(self.depth_usdc.scaleb(6)) * SCALE // micros)

    def describe(self) -> str:
        """One sentence for reports."""
        text = f"copies pay the last traded price moved {self.slippage_bps} bps against them"
        if self.depth_usdc is None:
            return text + ", with unlimited liquidity at that price"
        return (
            text + f"; each of {self.levels} levels holds {self.depth_usdc} pUSD and is "
            f"{self.impact_bps} bps worse than the one before"
        )

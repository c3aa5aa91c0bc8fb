"""Limit prices, venue minimums and order types.

A copy's limit is the leader's price moved by the slippage tolerance against us and
snapped to the market's tick in the conservative direction: a BUY never pays more than
the tolerance allows (round down), a SELL never accepts less (round up). The venue takes
prices with tick <= price <= 1 - tick only.

Venue minimums, by order type:

- resting orders (GTC) need at least the market's minimum size in shares (usually 5);
- marketable BUYs (FOK/FAK) need at least `MIN_MARKETABLE_NOTIONAL` (1 pUSD) at the limit;
- marketable SELLs: the reference leaves the rule for small crossing orders UNCERTAIN
  (polymarket-api.md 1.6: small marketable orders "sometimes pass"). We apply the BUY
  rule, at least 1 pUSD of proceeds at the limit price, so an exit is never sent only
  to be rejected; a smaller remainder waits for redemption (or the accumulator).

Sizes live on the venue's 0.01-share step (`venue_rules.SIZE_STEP`) and round down.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from polytail.domain.fills import Side
from polytail.domain.money import SCALE
from polytail.domain.orders import OrderType
from polytail.domain.venue_rules import MIN_MARKETABLE_NOTIONAL, SIZE_STEP

STEP: Final = SIZE_STEP.units
HALF: Final = SCALE // 2
_BPS: Final = 10_000


def step_down(units: int) -> int:
    """Round a share quantity down to the 0.01 step (same rule as `round_size_down`)."""
    return units - units % STEP


def step_up(units: int) -> int:
    return -(-units // STEP) * STEP


def price_micros(price: Decimal, bps: int, side: Side) -> tuple[int, int]:
    """The leader's price moved by `bps` against us, as a fraction numerator/denominator
    in micro-units (exact; callers round it in their direction)."""
    numerator, denominator = price.as_integer_ratio()
    factor = _BPS + bps if side is Side.BUY else _BPS - bps
    return numerator * factor * SCALE, denominator * _BPS


def buy_limit(price: Decimal, bps: int, tick: int) -> int | None:
    """Highest price a copied BUY may pay, on the tick; None when no tradable price is
    within the tolerance (the leader traded below one tick)."""
    # price_micros(price, bps, Side.BUY), inlined: this runs on every leader BUY.
    numerator, denominator = price.as_integer_ratio()
    limit = numerator * (_BPS + bps) * SCALE // (denominator * _BPS * tick) * tick
    limit = min(limit, SCALE - tick)
    return limit if limit >= tick else None


def sell_limit(price: Decimal, bps: int, tick: int) -> int | None:
    """Lowest price a copied SELL may accept, on the tick; None when none is tradable."""
    # price_micros(price, bps, Side.SELL), inlined: this runs on every leader SELL.
    numerator, denominator = price.as_integer_ratio()
    limit = -(-numerator * (_BPS - bps) * SCALE // (denominator * _BPS * tick)) * tick
    limit = max(limit, tick)
    return limit if limit <= SCALE - tick else None


def worst_fee_price(low: int, high: int) -> int:
    """The price in [low, high] where the taker fee per share is highest.

    The fee curve rate x (p(1-p))^e peaks at 0.5, so the worst case over the prices an
    order can fill at is the point of the range nearest 0.5.
    """
    return min(max(HALF, low), high)


def minimum_shares(order_type: OrderType, limit: int, min_size: int) -> int:
    """Smallest size on the 0.01 step the venue accepts for an order of either side (the
    same rule for BUY and SELL; see the module docstring)."""
    if order_type.is_marketable:
        # shares x limit >= 1 pUSD, exactly: shares >= 1e6 x 1e6 / limit (base units).
        return step_up(-(-MIN_MARKETABLE_NOTIONAL.units * SCALE // limit))
    return step_up(min_size)


def expiry_for(order_type: OrderType, now_ms: int, gtc_ttl_s: int) -> int | None:
    """GTC copies get a time limit (Unix seconds); the order manager cancels them then."""
    if order_type is OrderType.GTC:
        return now_ms // 1000 + gtc_ttl_s
    return None

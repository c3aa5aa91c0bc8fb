"""The venue's order rules that sizing, paper fills and order building must agree on.

Sizes are sent with 2 decimals, so share quantities snap down to 0.01 shares. With prices
of at most 4 decimals, shares x price is then exact in base units: a limit order's two
amounts never need rounding. Resting orders must meet the market's minimum size (usually
5 shares); marketable BUYs are reported to need at least 1 pUSD of notional.
"""

from __future__ import annotations

from typing import Final

from polytail.domain.money import SCALE, Price, Rounding, Shares, Usdc, cost_of, divide

SIZE_STEP: Final = Shares(SCALE // 100)
"""Order sizes have 2 decimals: 0.01 shares."""

MIN_MARKETABLE_NOTIONAL: Final = Usdc(1 * SCALE)
"""Marketable (FOK/FAK) BUYs below 1 pUSD are rejected.

UNCERTAIN: reported by users and third-party SDKs, not found in the official docs
(polymarket-api.md 1.6). Treated as a hard rule so a copy is never sent to be rejected.
"""

TICK_SIZES: Final = tuple(
    Price.parse(text) for text in ("0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001")
)
"""Every tick the venue uses (0.005 and 0.0025 were added in July 2026)."""


def round_size_down(shares: Shares) -> Shares:
    """Snap a share quantity down to the venue's 0.01 step (never more than intended)."""
    return Shares(divide(shares.units, SIZE_STEP.units, Rounding.DOWN) * SIZE_STEP.units)


def is_valid_tick(tick: Price) -> bool:
    return tick in TICK_SIZES


def limit_order_amounts(side: str, price: Price, size: Shares) -> tuple[int, int]:
    """(makerAmount, takerAmount) in base units for a limit order of `size` at `price`.

    BUY: the maker gives pUSD and takes shares; SELL: the maker gives shares and takes
    pUSD. `size` must already be on the 0.01 step.
    """
    if size != round_size_down(size):
        raise ValueError(f"size {size} is not on the 0.01 share step")
    usdc = cost_of(size, price).units
    if side == "BUY":
        return usdc, size.units
    if side == "SELL":
        return size.units, usdc
    raise ValueError(f"side must be BUY or SELL, got {side!r}")

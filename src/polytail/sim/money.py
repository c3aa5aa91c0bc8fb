"""The exchange's own money arithmetic: integers of 6-decimal base units, prices in micros.

The local exchange may not import the bot's money types (it must be able to catch their
mistakes), so it keeps this small set of helpers. pUSD and shares are integers of base
units (1 unit = 10**-6); a price is an integer of micro-pUSD per share in [0, 10**6].
JSON numbers and strings become these exactly once, here.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from math import gcd

UNIT = 1_000_000
"""Base units per pUSD or per share; also micros per 1.0 of price."""

MAX_UINT256 = (1 << 256) - 1
"""An ERC-20 allowance of this size is never decreased (as on chain)."""


class MoneyError(ValueError):
    """A number that is not a valid amount or price."""


def to_decimal(value: object) -> Decimal:
    """An exact Decimal from a JSON string, int or float (floats via their repr)."""
    if isinstance(value, bool):
        raise MoneyError(f"expected a number, got {value!r}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation as error:
            raise MoneyError(f"not a number: {value!r}") from error
    raise MoneyError(f"expected a number, got {type(value).__name__}")


def units(value: object) -> int:
    """Base units from a decimal amount ("12.5" -> 12_500_000); refuses sub-unit digits."""
    amount = to_decimal(value) * UNIT
    if amount != amount.to_integral_value():
        raise MoneyError(f"{value!r} has more than 6 decimals")
    return int(amount)


def price_micros(value: object) -> int:
    """A price as micros ("0.55" -> 550_000); must lie in [0, 1] with at most 6 decimals."""
    micros = units(value)
    if not 0 <= micros <= UNIT:
        raise MoneyError(f"price {value!r} is outside [0, 1]")
    return micros


def decimal_of(amount: int) -> Decimal:
    """Base units as an exact Decimal ("12500000" -> Decimal("12.5"))."""
    return (Decimal(amount) / UNIT).normalize() if amount else Decimal(0)


def text(amount: int) -> str:
    """Base units as a plain decimal string without exponent ("12.5", "0", "0.000001")."""
    value = decimal_of(amount)
    rendered = format(value, "f")
    return rendered


def number(amount: int) -> float | int:
    """Base units as the JSON number the venue's Data API would print (float, or int if whole).

    The Data API reports sizes and prices as JSON floats; converting at this single edge
    keeps every internal figure exact.
    """
    if amount % UNIT == 0:
        return amount // UNIT
    return float(decimal_of(amount))


def ratio_number(numerator: int, denominator: int) -> float:
    """A price reported by the Data API as a float (pUSD / shares of one fill)."""
    if denominator == 0:
        return 0.0
    return float(Fraction(numerator, denominator))


def lot(price: int) -> int:
    """The smallest share quantity (base units) whose cost at `price` is a whole base unit."""
    if price <= 0:
        return 1
    return UNIT // gcd(price, UNIT)


def cost(shares: int, price: int) -> int:
    """pUSD base units for `shares` base units at `price` micros; exact when shares is on lot."""
    return shares * price // UNIT


def taker_fee(shares: int, price: int, rate: Decimal, exponent: Decimal) -> int:
    """Fee in pUSD base units: shares × rate × (p(1−p))^exponent, rounded half-up.

    The formula is the one the official SDKs use (polymarket-api.md §1.8). The unit and
    rounding the venue uses on chain are UNCERTAIN; half-up to a base unit is our choice.
    """
    if rate == 0 or shares == 0:
        return 0
    p = Decimal(price) / UNIT
    curve = (p * (1 - p)) ** exponent
    fee = Decimal(shares) * rate * curve
    return int(fee.to_integral_value(rounding=ROUND_HALF_UP))


def floor_to(value: int, step: int) -> int:
    return value - value % step if step > 1 else value


def round_down_decimal(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)

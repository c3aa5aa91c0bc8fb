"""Exact money: integer base units for pUSD and shares, prices as integer micro-units.

Polymarket settles pUSD and every outcome token with 6 decimals, so both amounts are
integers of base units here. Prices are integers of 1e-6 pUSD per share: every tick the
venue uses (0.1 down to 0.0001) is a whole number of micro-units, so a price on a tick is
exact, and `shares x price` is an exact integer before any rounding decision is made.

Rounding is never implicit. The caller states the direction, and the named helpers encode
the venue's rules: shares we receive round down, what we pay rounds up, what we receive
rounds down. Floats are refused at every entry point: a float has already lost the exact
value, so accepting one would hide the bug instead of exposing it.

`Usdc`, `Shares` and `Price` are distinct types. Adding shares to pUSD, or comparing a
price with an amount, raises `TypeError` at run time and is an error under mypy.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import Enum
from typing import Any, ClassVar, Final, Self, cast, final

DECIMALS: Final = 6
SCALE: Final = 10**DECIMALS
"""Base units per whole pUSD or share, and micro-units per 1.0 of price."""

_QUANTUM: Final = Decimal(1).scaleb(-DECIMALS)


class Rounding(Enum):
    """Direction for an inexact conversion. There is deliberately no default."""

    DOWN = "down"  # toward negative infinity
    UP = "up"  # toward positive infinity
    HALF_EVEN = "half_even"  # only for normalising values the venue reported

    @property
    def decimal_mode(self) -> str:
        return _DECIMAL_MODES[self]


_DECIMAL_MODES: Final = {
    Rounding.DOWN: ROUND_FLOOR,
    Rounding.UP: ROUND_CEILING,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
}


class MoneyError(ValueError):
    """A value cannot be represented exactly as money, or breaks a money invariant."""


def divide(numerator: int, denominator: int, rounding: Rounding) -> int:
    """Integer division with an explicit rounding direction (denominator must be positive)."""
    if denominator <= 0:
        raise MoneyError(f"denominator must be positive, got {denominator}")
    quotient, remainder = divmod(numerator, denominator)
    if remainder == 0 or rounding is Rounding.DOWN:
        return quotient
    if rounding is Rounding.UP:
        return quotient + 1
    twice = 2 * remainder
    if twice < denominator:
        return quotient
    if twice > denominator:
        return quotient + 1
    return quotient if quotient % 2 == 0 else quotient + 1


def to_units(value: Decimal | int | str, rounding: Rounding | None = None) -> int:
    """Convert a decimal amount to base units.

    Without `rounding` the value must already be exact to 6 decimals; otherwise it is
    rounded in the stated direction. Floats are refused (see the module docstring).
    """
    if isinstance(value, bool | float):
        raise TypeError(f"money must not come from a float ({value!r}); pass a Decimal, int or str")
    try:
        exact = value if isinstance(value, Decimal) else Decimal(value)
    except InvalidOperation as error:
        raise MoneyError(f"not a decimal number: {value!r}") from error
    if not exact.is_finite():
        raise MoneyError(f"not a finite number: {value!r}")
    scaled = exact.scaleb(DECIMALS)
    integral = scaled.to_integral_value(rounding=ROUND_FLOOR)
    if integral != scaled:
        if rounding is None:
            raise MoneyError(
                f"{value} has more than {DECIMALS} decimals; state a rounding direction"
            )
        integral = scaled.to_integral_value(rounding=rounding.decimal_mode)
    return int(integral)


def units_to_decimal(units: int) -> Decimal:
    return Decimal(units).scaleb(-DECIMALS)


def format_units(units: int) -> str:
    """Canonical decimal text: no exponent, no trailing zeros ("12.5", "0", "-0.000001")."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), SCALE)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:06d}".rstrip("0")


class _Amount:
    """Shared behaviour of the two amount types; never instantiated directly.

    Arithmetic is allowed only between values of the same concrete type, so `Usdc + Shares`
    is a `TypeError`. Scaling by a ratio requires an explicit rounding direction.
    """

    __slots__ = ("units",)
    units: int
    _unit_name: ClassVar[str] = "units"

    def __init__(self, units: int) -> None:
        if type(units) is not int:
            raise TypeError(
                f"{type(self).__name__} takes integer base units, got {type(units).__name__}"
            )
        _set_units(self, units)

    # --- construction -----------------------------------------------------------------
    @classmethod
    def zero(cls) -> Self:
        return cls(0)

    @classmethod
    def parse(cls, value: Decimal | int | str, rounding: Rounding | None = None) -> Self:
        """From a decimal amount ("12.5" -> 12_500_000 units)."""
        return cls(to_units(value, rounding))

    # --- immutability -----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[type[Self], tuple[int]]:
        return (type(self), (self.units,))

    # --- arithmetic ---------------------------------------------------------------------
    def __add__(self, other: Self) -> Self:
        if type(other) is not type(self):
            return NotImplemented
        return type(self)(self.units + other.units)

    def __sub__(self, other: Self) -> Self:
        if type(other) is not type(self):
            return NotImplemented
        return type(self)(self.units - other.units)

    def __neg__(self) -> Self:
        return type(self)(-self.units)

    def __abs__(self) -> Self:
        return type(self)(abs(self.units))

    def times(self, count: int) -> Self:
        """Multiply by a whole number (exact)."""
        if type(count) is not int:
            raise TypeError("times() takes an int; use scale() for ratios")
        return type(self)(self.units * count)

    def scale(self, numerator: int, denominator: int, rounding: Rounding) -> Self:
        """Multiply by numerator/denominator, rounding in the stated direction."""
        return type(self)(divide(self.units * numerator, denominator, rounding))

    def scale_by(self, ratio: Decimal, rounding: Rounding) -> Self:
        """Multiply by an exact decimal ratio, rounding in the stated direction."""
        if not isinstance(cast(object, ratio), Decimal):
            raise TypeError("ratios must be Decimal, not float")
        numerator, denominator = ratio.as_integer_ratio()
        return self.scale(numerator, denominator, rounding)

    def ratio_to(self, other: Self) -> Decimal:
        """self / other as an exact-enough Decimal (28 significant digits)."""
        if type(other) is not type(self):
            raise TypeError(f"cannot divide {type(self).__name__} by {type(other).__name__}")
        if other.units == 0:
            raise ZeroDivisionError(f"{type(self).__name__} ratio with a zero denominator")
        return Decimal(self.units) / Decimal(other.units)

    def min(self, other: Self) -> Self:
        return self if self.units <= other.units else other

    def max(self, other: Self) -> Self:
        return self if self.units >= other.units else other

    # --- comparison -----------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Amount) or type(other) is not type(self):
            return NotImplemented
        return self.units == other.units

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.units))

    def __lt__(self, other: Self) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.units < other.units

    def __le__(self, other: Self) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.units <= other.units

    def __gt__(self, other: Self) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.units > other.units

    def __ge__(self, other: Self) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.units >= other.units

    def __bool__(self) -> bool:
        return self.units != 0

    @property
    def is_positive(self) -> bool:
        return self.units > 0

    @property
    def is_negative(self) -> bool:
        return self.units < 0

    # --- presentation ---------------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        return units_to_decimal(self.units)

    def __str__(self) -> str:
        return format_units(self.units)

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{format_units(self.units)}')"


# The slot's own setter, which `__setattr__` (raising) does not intercept: amounts are
# built several times per copy decision, and this is cheaper than `object.__setattr__`
# (no lookup of the attribute by name). Only the constructors use it.
_set_units: Final[Callable[[_Amount, int], None]] = _Amount.__dict__["units"].__set__


@final
class Usdc(_Amount):
    """An amount of pUSD (the venue's collateral; 1 pUSD = 1 USD) in base units."""

    __slots__ = ()


@final
class Shares(_Amount):
    """A quantity of outcome-token shares in base units (each share pays 1 pUSD if it wins)."""

    __slots__ = ()


PRICE_ONE: Final = SCALE


@final
class Price:
    """A price in pUSD per share, as integer micro-units in [0, 1].

    Orders use prices on the market's tick (`on_tick`); prices the venue *reported*, such
    as a leader's average fill price, stay `Decimal` in `LeaderFill` because they are not
    necessarily representable on any tick.
    """

    __slots__ = ("micros",)
    micros: int

    def __init__(self, micros: int) -> None:
        if type(micros) is not int:
            raise TypeError(f"Price takes integer micro-units, got {type(micros).__name__}")
        if not 0 <= micros <= PRICE_ONE:
            raise MoneyError(f"price must lie in [0, 1], got {format_units(micros)}")
        _set_micros(self, micros)

    @classmethod
    def parse(cls, value: Decimal | int | str, rounding: Rounding | None = None) -> Price:
        return cls(to_units(value, rounding))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Price is immutable")

    def __reduce__(self) -> tuple[type[Price], tuple[int]]:
        return (Price, (self.micros,))

    # --- tick rules ---------------------------------------------------------------------
    def on_tick(self, tick: Price) -> bool:
        return tick.micros > 0 and self.micros % tick.micros == 0

    def round_to_tick(self, tick: Price, rounding: Rounding) -> Price:
        """Snap to the tick grid in the stated direction (a BUY limit rounds down, a SELL up)."""
        if tick.micros <= 0:
            raise MoneyError("tick must be positive")
        steps = divide(self.micros, tick.micros, rounding)
        return Price(steps * tick.micros)

    def is_tradable(self, tick: Price) -> bool:
        """The venue accepts prices with tick <= price <= 1 - tick, on the tick grid."""
        return self.on_tick(tick) and tick.micros <= self.micros <= PRICE_ONE - tick.micros

    def complement(self) -> Price:
        """1 - price: the price of the other outcome of a binary market."""
        return Price(PRICE_ONE - self.micros)

    def plus(self, micros: int) -> Price:
        """Shift by micro-units, clamped to [0, 1]."""
        return Price(min(PRICE_ONE, max(0, self.micros + micros)))

    # --- comparison and presentation ------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Price):
            return NotImplemented
        return self.micros == other.micros

    def __hash__(self) -> int:
        return hash(("Price", self.micros))

    def __lt__(self, other: Price) -> bool:
        if type(other) is not Price:
            return NotImplemented
        return self.micros < other.micros

    def __le__(self, other: Price) -> bool:
        if type(other) is not Price:
            return NotImplemented
        return self.micros <= other.micros

    def __gt__(self, other: Price) -> bool:
        if type(other) is not Price:
            return NotImplemented
        return self.micros > other.micros

    def __ge__(self, other: Price) -> bool:
        if type(other) is not Price:
            return NotImplemented
        return self.micros >= other.micros

    def to_decimal(self) -> Decimal:
        return units_to_decimal(self.micros)

    def __str__(self) -> str:
        return format_units(self.micros)

    def __repr__(self) -> str:
        return f"Price('{format_units(self.micros)}')"


_set_micros: Final[Callable[[Price, int], None]] = Price.__dict__["micros"].__set__
"""The slot's setter, for the constructor (see `_set_units`)."""


# --- notional arithmetic with the venue's rounding directions ---------------------------


def notional(shares: Shares, price: Price, rounding: Rounding) -> Usdc:
    """shares x price in pUSD, rounded in the stated direction."""
    return Usdc(divide(shares.units * price.micros, SCALE, rounding))


def cost_of(shares: Shares, price: Price) -> Usdc:
    """What a buyer pays for `shares` at `price`: rounds up, never in the buyer's favour."""
    return notional(shares, price, Rounding.UP)


def proceeds_of(shares: Shares, price: Price) -> Usdc:
    """What a seller receives for `shares` at `price`: rounds down."""
    return notional(shares, price, Rounding.DOWN)


def shares_for(amount: Usdc, price: Price) -> Shares:
    """How many shares `amount` buys at `price`: rounds down (never more than paid for)."""
    if price.micros == 0:
        raise MoneyError("cannot size an order at price 0")
    return Shares(divide(amount.units * SCALE, price.micros, Rounding.DOWN))


def average_price(amount: Usdc, shares: Shares) -> Decimal:
    """amount / shares as a Decimal price (for reporting and comparisons, not for orders)."""
    if shares.units == 0:
        raise MoneyError("average price of zero shares")
    return Decimal(amount.units) / Decimal(shares.units)


def quantize_reported(value: Decimal) -> Decimal:
    """Normalise a reported decimal to 6 places (half-even), for display of venue values."""
    return value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)

"""Markets as the engine needs them: outcomes and their ids, trading rules, fees, resolution.

A `Market` is built by the venue layer from Gamma or CLOB metadata and cached; policy,
execution and the ledger only ever see this type, so the venue's churn (v1 CTF token ids
vs v2 position ids, camelCase vs snake_case, JSON-in-strings) stops at the venue layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Final

from polytail.domain.ids import ConditionId, TokenId, token_id
from polytail.domain.money import (
    SCALE,
    Price,
    Rounding,
    Shares,
    Usdc,
    divide,
)


class MarketVersion(StrEnum):
    """Gamma `market.version`: which protocol holds the outcomes and signs the orders."""

    V1 = "v1"  # CTF outcome tokens (`clobTokenIds`), exchange domain version "2"
    V2 = "v2"  # Protocol V2 positions (`positionIds`), ExchangeV3, domain version "3"


class MarketError(ValueError):
    """Market metadata is missing or contradictory; the message names the field."""


def infer_version(
    version: str | None,
    clob_token_ids: Sequence[str] | None,
    position_ids: Sequence[str] | None,
) -> MarketVersion:
    """The market's protocol version, from Gamma `version` or, for legacy payloads, its ids.

    Gamma has marked every market with `version` since about September 2026. Payloads from
    before that (all recorded history) carry only `clobTokenIds`: Protocol V2 did not
    exist yet, so such a market is v1. A payload with `positionIds` but no version is
    ambiguous and is rejected rather than guessed, because a wrong id signs an order
    nobody can fill.
    """
    if version is not None and version != "":
        try:
            return MarketVersion(version.lower())
        except ValueError as error:
            raise MarketError(
                f"unknown market version {version!r}; expected 'v1' or 'v2'"
            ) from error
    if clob_token_ids and not position_ids:
        return MarketVersion.V1
    raise MarketError(
        "market has no 'version' and carries positionIds; cannot tell v1 from v2"
        if position_ids
        else "market has no 'version' and no outcome ids"
    )


def outcome_ids_for_version(
    version: str | None,
    clob_token_ids: Sequence[str] | None,
    position_ids: Sequence[str] | None,
) -> tuple[TokenId, ...]:
    """Pick the outcome ids by the market's version, even when both lists are present.

    Field presence is not reliable (the venue fills both on some markets), so the version
    decides: v1 uses `clobTokenIds`, v2 uses `positionIds` (see `infer_version` for
    payloads without a version).
    """
    parsed = infer_version(version, clob_token_ids, position_ids)
    chosen, name = (
        (clob_token_ids, "clobTokenIds")
        if parsed is MarketVersion.V1
        else (position_ids, "positionIds")
    )
    if not chosen:
        raise MarketError(f"{parsed.value} market has no {name}")
    return tuple(token_id(value) for value in chosen)


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """The per-market taker fee curve: fee = shares x rate x (p x (1 - p)) ** exponent.

    Charged to takers only (when `taker_only`); makers pay nothing and earn a rebate.
    A copy is almost always taker flow, so this is what a copy pays.
    """

    rate: Decimal = Decimal(0)
    exponent: Decimal = Decimal(1)
    taker_only: bool = True
    rebate_rate: Decimal = Decimal(0)

    @classmethod
    def free(cls) -> FeeSchedule:
        return cls()

    @property
    def is_free(self) -> bool:
        return self.rate == 0

    def taker_fee(self, shares: Shares, price: Price) -> Usdc:
        """Fee a taker pays for `shares` at `price`, rounded up (what we pay)."""
        if self.rate == 0 or shares.units == 0:
            return Usdc(0)
        p, q = price.micros, SCALE - price.micros
        rate_num, rate_den = self.rate.as_integer_ratio()
        exp_num, exp_den = self.exponent.as_integer_ratio()
        if exp_den == 1 and exp_num >= 0:
            numerator = shares.units * rate_num * (p * q) ** exp_num
            denominator = rate_den * SCALE ** (2 * exp_num)
            return Usdc(divide(numerator, denominator, Rounding.UP))
        # A fractional exponent cannot be exact; compute at high precision, round up.
        base = (Decimal(p) * Decimal(q)) / Decimal(SCALE * SCALE)
        fee = Decimal(shares.units) * self.rate * base**self.exponent
        return Usdc(int(fee.to_integral_value(rounding="ROUND_CEILING")))

    def maker_fee(self, shares: Shares, price: Price) -> Usdc:
        if self.taker_only:
            return Usdc(0)
        return self.taker_fee(shares, price)


@dataclass(frozen=True, slots=True)
class Outcome:
    index: int
    label: str
    token_id: TokenId


@dataclass(frozen=True, slots=True)
class Resolution:
    """How a market resolved: the payout per share of each outcome, by outcome index.

    Binary markets pay (1, 0) or (0, 1); some resolve 50-50. Resolution is not
    redemption: the claim becomes cash only when it is redeemed (see portfolio).
    """

    payouts: tuple[Decimal, ...]
    resolved_at: int | None = None  # Unix seconds, when known

    def __post_init__(self) -> None:
        if not self.payouts:
            raise MarketError("a resolution needs at least one payout")
        for payout in self.payouts:
            if not Decimal(0) <= payout <= Decimal(1):
                raise MarketError(f"payout {payout} outside [0, 1]")

    @classmethod
    def winner(
        cls, winning_index: int, outcome_count: int, resolved_at: int | None = None
    ) -> Resolution:
        if not 0 <= winning_index < outcome_count:
            raise MarketError(f"winning index {winning_index} out of range")
        return cls(
            tuple(Decimal(1) if i == winning_index else Decimal(0) for i in range(outcome_count)),
            resolved_at,
        )

    def payout_per_share(self, outcome_index: int) -> Decimal:
        try:
            return self.payouts[outcome_index]
        except IndexError as error:
            raise MarketError(f"no payout for outcome index {outcome_index}") from error

    def payout(self, outcome_index: int, shares: Shares) -> Usdc:
        """What redeeming `shares` of an outcome pays, rounded down (what we receive)."""
        numerator, denominator = self.payout_per_share(outcome_index).as_integer_ratio()
        return Usdc(divide(shares.units * numerator, denominator, Rounding.DOWN))

    @property
    def winning_index(self) -> int | None:
        winners = [i for i, payout in enumerate(self.payouts) if payout == 1]
        return winners[0] if len(winners) == 1 else None


DEFAULT_MIN_SIZE: Final = Shares(5 * SCALE)
"""Most markets require resting orders of at least 5 shares (Gamma `orderMinSize`)."""


@dataclass(frozen=True, slots=True)
class Market:
    condition_id: ConditionId
    version: MarketVersion
    outcomes: tuple[Outcome, ...]
    tick: Price
    min_size: Shares = DEFAULT_MIN_SIZE
    neg_risk: bool = False
    fees: FeeSchedule = field(default_factory=FeeSchedule.free)
    end_date: int | None = None  # Unix seconds
    question: str = ""
    slug: str = ""
    event_slug: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    active: bool = True
    closed: bool = False
    accepting_orders: bool = True
    taker_delay: bool = False
    resolution: Resolution | None = None

    def __post_init__(self) -> None:
        if not self.outcomes:
            raise MarketError(f"market {self.condition_id} has no outcomes")
        if self.tick.micros <= 0 or self.tick.micros >= SCALE:
            raise MarketError(f"market {self.condition_id} has an invalid tick {self.tick}")
        indexes = [outcome.index for outcome in self.outcomes]
        if indexes != list(range(len(self.outcomes))):
            raise MarketError(f"market {self.condition_id} outcome indexes are not 0..n-1")

    @property
    def token_ids(self) -> tuple[TokenId, ...]:
        return tuple(outcome.token_id for outcome in self.outcomes)

    def outcome_for(self, token: TokenId) -> Outcome:
        for outcome in self.outcomes:
            if outcome.token_id == token:
                return outcome
        raise MarketError(f"token {token} is not an outcome of market {self.condition_id}")

    def has_token(self, token: TokenId) -> bool:
        # A plain loop: markets have two outcomes (a few for some), and a generator
        # under any() costs more than the comparisons; the policy asks on every fill.
        for outcome in self.outcomes:  # noqa: SIM110
            if outcome.token_id == token:
                return True
        return False

    @property
    def is_resolved(self) -> bool:
        return self.resolution is not None

    def seconds_to_end(self, now: int) -> int | None:
        return None if self.end_date is None else self.end_date - now

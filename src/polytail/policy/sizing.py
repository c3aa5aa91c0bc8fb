"""How much to copy: the budget of a copy by sizing mode, and what a size costs at most.

Sizing happens in two steps. `copy_budget` turns the fill and the portfolio into a pUSD
amount by the leader's sizing mode. `CostModel` then converts between pUSD and shares at
the copy's limit price: what `s` shares cost at most (notional at the limit, rounded up,
plus the worst-case taker fee, rounded up) and the largest size on the 0.01 step whose
cost fits an amount. Every cap, the budget and the venue minimum go through the same
model, so they compare like with like and a cap can only shrink a size.

Fees follow the venue's curve, fee = shares x rate x (p(1-p))^exponent, charged to BUY
takers on top of the notional (polymarket-api.md 1.8). The price used is the worst case
over the prices the order can fill at (`pricing.worst_fee_price`), so the real fee is
never above the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from polytail.config.schema import SizingMode
from polytail.domain.decisions import ReasonCode
from polytail.domain.market import FeeSchedule
from polytail.domain.money import SCALE, Price, Shares
from polytail.policy.pricing import STEP, step_down
from polytail.policy.rules import SizingRules

Skip = tuple[ReasonCode, str]


@lru_cache(maxsize=4096)
def _fee_per_unit(fees: FeeSchedule, price: int) -> tuple[int, int, bool]:
    """Fee per base unit of shares at `price` as numerator/denominator, and whether the
    ratio is exact (an integer exponent) or a high-precision estimate."""
    if fees.rate == 0:
        return 0, 1, True
    p, q = price, SCALE - price
    rate_num, rate_den = fees.rate.as_integer_ratio()
    exp_num, exp_den = fees.exponent.as_integer_ratio()
    if exp_den == 1 and exp_num >= 0:
        return rate_num * (p * q) ** exp_num, rate_den * SCALE ** (2 * exp_num), True
    base = (Decimal(p) * Decimal(q)) / Decimal(SCALE * SCALE)
    numerator, denominator = (fees.rate * base**fees.exponent).as_integer_ratio()
    return numerator, denominator, False


@dataclass(slots=True)
class CostModel:
    """The most a BUY of `s` share units at `limit` can cost, in pUSD base units.

    Built once per decision and never changed (not frozen only because frozen
    dataclasses cost a microsecond more to build, on the hot path).
    """

    limit: int  # micro-units
    fee_price: int
    fees: FeeSchedule
    fee_num: int
    fee_den: int
    exact: bool

    @classmethod
    def at(cls, fees: FeeSchedule, limit: int, fee_price: int) -> CostModel:
        fee_num, fee_den, exact = _fee_per_unit(fees, fee_price)
        return cls(limit, fee_price, fees, fee_num, fee_den, exact)

    def notional(self, shares: int) -> int:
        """shares x limit, rounded up: what a buyer pays (the venue's rounding)."""
        return -(-shares * self.limit // SCALE)

    def fee(self, shares: int) -> int:
        if self.fee_num == 0 or shares == 0:
            return 0
        if self.exact:  # identical to FeeSchedule.taker_fee, without building objects
            return -(-shares * self.fee_num // self.fee_den)
        return self.fees.taker_fee(Shares(shares), Price(self.fee_price)).units

    def spend(self, shares: int) -> int:
        return self.notional(shares) + self.fee(shares)

    def max_shares(self, amount: int, *, with_fee: bool = True) -> int:
        """Largest size on the 0.01 step whose cost (with or without the fee) fits."""
        if amount <= 0:
            return 0
        charge_fee = with_fee and self.fee_num != 0
        if charge_fee:
            # cost(s) >= s x (limit/SCALE + num/den), so this bound is never too small.
            estimate = (
                amount * SCALE * self.fee_den // (self.limit * self.fee_den + self.fee_num * SCALE)
            )
        else:
            estimate = amount * SCALE // self.limit
        cost = self.spend if charge_fee else self.notional
        shares = step_down(estimate)
        while shares > 0 and cost(shares) > amount:  # rounding up costs at most a step
            shares -= STEP
        if charge_fee and not self.exact:  # an estimated fee ratio may undershoot
            while cost(shares + STEP) <= amount:
                shares += STEP
        return shares


def _times(units: int, ratio: tuple[int, int]) -> int:
    return units * ratio[0] // ratio[1]


def copy_budget(
    rules: SizingRules, leader_usdc: int, equity: int, leader_value: int | None
) -> int | Skip:
    """The pUSD a copy may use by the leader's sizing mode (rounded down), or a skip."""
    mode = rules.mode
    if mode is SizingMode.FIXED:
        budget = rules.fixed_units
    elif mode is SizingMode.RATIO:
        budget = _times(leader_usdc, rules.ratio)
    elif mode is SizingMode.BANKROLL:
        if leader_value is None or leader_value <= 0:
            return (
                ReasonCode.SIZE_BANKROLL_UNKNOWN,
                "bankroll sizing needs the leader's portfolio value, which is unknown",
            )
        budget = max(0, leader_usdc * equity // leader_value)
    elif mode is SizingMode.EQUITY_PCT:
        budget = max(0, _times(equity, rules.equity_fraction))
    else:  # TIERED: the multiplier of the highest tier the leader's notional reaches
        multiplier = None
        for floor, ratio in rules.tiers:
            if leader_usdc < floor:
                break
            multiplier = ratio
        if multiplier is None:
            return ReasonCode.SIZE_ZERO, "leader notional is below the first sizing tier"
        budget = _times(leader_usdc, multiplier)
    if budget <= 0:
        return ReasonCode.SIZE_ZERO, f"{mode.value} sizing gives nothing to copy"
    return budget

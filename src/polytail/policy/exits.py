"""Exits: mirroring a leader's sells, and the optional exit rules, expressed as data.

**Mirror.** A leader SELL is mirrored on the shares attributed to that leader only:
fraction = leader sold / leader held before the sale (capped at 1), applied to what we
hold for that leader and is not already in an open SELL order (or accumulated for one),
rounded down to the 0.01 step. Never more than held, never another leader's shares.
When the leader's holding is unknown, the sale is treated as a full exit (it held at
least what it sold, and following it out is the side that reduces risk). When the sale
is valid on its own but would leave a remainder too small to ever be sold alone, the
whole holding is sold (`exit_remainder_dust`).

**Rules** (`[exits]`): stop-loss and take-profit on the lot's average cost (fees
included), a trailing stop on the highest mark since entry, and an exit a set time
before the market's end date. They are checked in that order, per lot (one lot per
leader), and the first that triggers sells the lot's available shares. Each trigger has
a stable intent key, `exit:<rule>:<token>:<leader>-<lot version>`: evaluating the same
trigger again gives the same key (the order manager sends it once), and a lot changed by
a fill gets a new version, hence a new key for what is left.
"""

from __future__ import annotations

from typing import Final

from polytail.domain.decisions import ReasonCode
from polytail.domain.ids import Address, TokenId
from polytail.domain.money import SCALE, Price
from polytail.domain.positions import Lot
from polytail.policy.pricing import STEP
from polytail.policy.rules import ExitRules

RULE_NAMES: Final = {
    ReasonCode.EXIT_STOP_LOSS: "stop_loss",
    ReasonCode.EXIT_TRAILING_STOP: "trailing_stop",
    ReasonCode.EXIT_TAKE_PROFIT: "take_profit",
    ReasonCode.EXIT_BEFORE_RESOLUTION: "before_resolution",
}


def mirror_shares(
    holding: int, sold: int, held_before: int | None, *, step: int = STEP
) -> tuple[int, bool]:
    """Shares (base units, on the step) to sell for a leader that sold `sold` of
    `held_before`, and whether that is the whole holding (a full exit).

    `step` is the venue's 0.01-share step; the backtest's ideal venue passes 1 (no step).
    """
    if held_before is None or held_before <= 0 or sold >= held_before:
        return holding - holding % step, True
    whole = holding * sold // held_before
    return whole - whole % step, False


def triggered_rule(
    rules: ExitRules,
    lot: Lot,
    *,
    mark: Price,
    high_water: Price | None,
    end_date: int | None,
    now_ms: int,
) -> ReasonCode | None:
    """The first exit rule a lot triggers at `mark`, or None. Comparisons are exact:
    mark x shares against cost x (1 +/- fraction), in integers."""
    shares, cost = lot.shares.units, lot.cost.units
    if shares <= 0:
        return None
    value = mark.micros * shares  # market value x SCALE
    if rules.stop_loss is not None:
        num, den = rules.stop_loss
        if value * den <= cost * SCALE * (den - num):
            return ReasonCode.EXIT_STOP_LOSS
    if rules.trailing_stop is not None and high_water is not None and high_water.micros > 0:
        num, den = rules.trailing_stop
        if mark.micros * den <= high_water.micros * (den - num):
            return ReasonCode.EXIT_TRAILING_STOP
    if rules.take_profit is not None:
        num, den = rules.take_profit
        if value * den >= cost * SCALE * (den + num):
            return ReasonCode.EXIT_TAKE_PROFIT
    if (
        rules.before_resolution_s is not None
        and end_date is not None
        and end_date - now_ms // 1000 <= rules.before_resolution_s
    ):
        return ReasonCode.EXIT_BEFORE_RESOLUTION
    return None


def exit_intent_key(rule: ReasonCode, token: TokenId, leader: Address, version: int) -> str:
    return f"exit:{RULE_NAMES[rule]}:{token}:{leader}-{version}"

"""The policy's settings, compiled once into the integers and sets a decision compares with.

The config sections hold exact `Decimal`s and lists, which is right for validation and
documentation but slow to compare on every fill. Compiling turns amounts into base
units, prices into micro-units, durations into milliseconds and allow/deny lists into
lowercased sets, once per configuration. A reloaded configuration compiles a new `Policy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from polytail.config.schema import (
    BelowMinimum,
    ExitSettings,
    FilterSettings,
    LeaderSettings,
    RiskSettings,
    SideFilter,
    SizingMode,
    SizingSettings,
)
from polytail.domain.fills import Role
from polytail.domain.ids import Address, address
from polytail.domain.market import MarketVersion
from polytail.domain.money import Rounding, to_units


def _units(value: Decimal) -> int:
    return to_units(value, Rounding.DOWN)


def _optional_units(value: Decimal | None) -> int | None:
    return None if value is None else _units(value)


def _lowered(values: Sequence[str]) -> frozenset[str]:
    return frozenset(value.strip().lower() for value in values if value.strip())


@dataclass(frozen=True, slots=True)
class FilterRules:
    min_leader_units: int
    price_min: Decimal
    price_max: Decimal
    max_spread_micros: int | None
    min_depth_units: int | None
    categories_allow: frozenset[str]
    categories_deny: frozenset[str]
    tags_allow: frozenset[str]
    tags_deny: frozenset[str]
    slug_allow: tuple[str, ...]
    slug_deny: tuple[str, ...]
    max_seconds_to_end: int | None
    min_seconds_left: int
    versions: frozenset[MarketVersion]
    allow_neg_risk: bool
    max_fill_age_ms: int
    roles: frozenset[Role]
    sides: SideFilter

    @classmethod
    def compile(cls, settings: FilterSettings) -> FilterRules:
        days = settings.max_days_to_resolution
        return cls(
            min_leader_units=_units(settings.min_leader_usdc),
            price_min=settings.price_min,
            price_max=settings.price_max,
            max_spread_micros=_optional_units(settings.max_spread),
            min_depth_units=_optional_units(settings.min_depth_usdc),
            categories_allow=_lowered(settings.categories_allow),
            categories_deny=_lowered(settings.categories_deny),
            tags_allow=_lowered(settings.tags_allow),
            tags_deny=_lowered(settings.tags_deny),
            slug_allow=tuple(sorted(_lowered(settings.slug_keywords_allow))),
            slug_deny=tuple(sorted(_lowered(settings.slug_keywords_deny))),
            # Fractions of a second are rounded against the market: a market must end
            # within the whole window and leave at least the whole minimum.
            max_seconds_to_end=None
            if days is None
            else int((days * 86_400).to_integral_value(rounding=ROUND_FLOOR)),
            min_seconds_left=int(
                (settings.min_minutes_left * 60).to_integral_value(rounding=ROUND_CEILING)
            ),
            versions=frozenset(settings.market_versions),
            allow_neg_risk=settings.allow_neg_risk,
            max_fill_age_ms=int(settings.max_fill_age_s * 1000),
            roles=frozenset(settings.roles),
            sides=settings.sides,
        )


@dataclass(frozen=True, slots=True)
class SizingRules:
    """Ratios are exact numerator/denominator pairs: a copy multiplies by them in integers."""

    mode: SizingMode
    fixed_units: int
    ratio: tuple[int, int]
    equity_fraction: tuple[int, int]
    tiers: tuple[tuple[int, tuple[int, int]], ...]  # (min leader notional units, multiplier)
    fee_aware: bool
    accumulate: bool
    accumulate_window_ms: int

    @classmethod
    def compile(cls, settings: SizingSettings) -> SizingRules:
        return cls(
            mode=settings.mode,
            fixed_units=_units(settings.fixed_usdc),
            ratio=settings.ratio.as_integer_ratio(),
            equity_fraction=(settings.equity_pct / 100).as_integer_ratio(),
            tiers=tuple(
                (_units(tier.min_leader_usdc), tier.multiplier.as_integer_ratio())
                for tier in settings.tiers
            ),
            fee_aware=settings.fee_aware,
            accumulate=settings.below_minimum is BelowMinimum.ACCUMULATE,
            accumulate_window_ms=settings.accumulate_window_s * 1000,
        )


def _fraction(pct: Decimal | None) -> tuple[int, int] | None:
    """A percentage as an exact fraction: 25 -> (1, 4)."""
    return None if pct is None else (pct / 100).as_integer_ratio()


@dataclass(frozen=True, slots=True)
class ExitRules:
    mirror_sells: bool
    take_profit: tuple[int, int] | None  # fractions: 50 % as (1, 2)
    stop_loss: tuple[int, int] | None
    trailing_stop: tuple[int, int] | None
    before_resolution_s: int | None

    @classmethod
    def compile(cls, settings: ExitSettings) -> ExitRules:
        minutes = settings.exit_before_resolution_minutes
        return cls(
            mirror_sells=settings.mirror_sells,
            take_profit=_fraction(settings.take_profit_pct),
            stop_loss=_fraction(settings.stop_loss_pct),
            trailing_stop=_fraction(settings.trailing_stop_pct),
            before_resolution_s=None if minutes is None else minutes * 60,
        )

    @property
    def any_rule(self) -> bool:
        return not (
            self.take_profit is None
            and self.stop_loss is None
            and self.trailing_stop is None
            and self.before_resolution_s is None
        )


@dataclass(frozen=True, slots=True)
class RiskRules:
    max_order_units: int
    max_market_units: int
    max_outcome_units: int
    max_total_units: int
    cash_reserve_units: int
    max_open_orders: int
    daily_loss_units: int | None
    leader_daily_loss_units: int | None
    max_drawdown: tuple[int, int] | None  # a fraction: 0.25 as (1, 4)
    leader_max_drawdown: tuple[int, int] | None
    cooldown_ms: int

    @classmethod
    def compile(cls, settings: RiskSettings) -> RiskRules:
        return cls(
            max_order_units=_units(settings.max_order_usdc),
            max_market_units=_units(settings.max_market_usdc),
            max_outcome_units=_units(settings.max_outcome_usdc),
            max_total_units=_units(settings.max_total_usdc),
            cash_reserve_units=_units(settings.cash_reserve_usdc),
            max_open_orders=settings.max_open_orders,
            daily_loss_units=_optional_units(settings.daily_loss_usdc),
            leader_daily_loss_units=_optional_units(settings.leader_daily_loss_usdc),
            max_drawdown=_fraction(settings.max_drawdown_pct),
            leader_max_drawdown=_fraction(settings.leader_max_drawdown_pct),
            cooldown_ms=settings.cooldown_after_loss_s * 1000,
        )


@dataclass(frozen=True, slots=True)
class LeaderRules:
    """One watched leader: its effective filters and sizing, and its budget."""

    address: Address
    label: str
    enabled: bool
    budget_units: int
    filters: FilterRules
    sizing: SizingRules

    @classmethod
    def compile(cls, leader: LeaderSettings, budget: Decimal) -> LeaderRules:
        return cls(
            address=address(leader.address),
            label=leader.label,
            enabled=leader.enabled,
            budget_units=_units(budget),
            filters=FilterRules.compile(leader.filters),
            sizing=SizingRules.compile(leader.sizing),
        )


def compile_leaders(
    leaders: Sequence[LeaderSettings], default_budget: Decimal
) -> dict[Address, LeaderRules]:
    """Each leader's rules; the budget is its own `budget_usdc`, else `risk.max_leader_usdc`
    (the same rule as `PolytailConfig.leader_budget`)."""
    compiled: dict[Address, LeaderRules] = {}
    for leader in leaders:
        budget = default_budget if leader.budget_usdc is None else leader.budget_usdc
        rules = LeaderRules.compile(leader, budget)
        compiled[rules.address] = rules
    return compiled

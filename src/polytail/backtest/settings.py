"""What a backtest run varies, and the engine configuration it runs with.

`BacktestSettings` holds the replay's own knobs (latency, the price model, `--no-caps`)
and the policy knobs a sweep varies (ratio, slippage tolerance, filter overrides).
`engine_config` turns a user's configuration (or none) and those settings into the
`PolytailConfig` the engine is built from:

- the replayed leaders become `[[leaders]]` (a leader already in the configuration keeps
  its own filters, sizing and budget);
- without a configuration, filters are neutral (every fill passes): the question is
  "what if I had copied every fill?"; with one, its filters apply;
- `ratio` switches every leader to ratio sizing; `tolerance_bps` sets
  `pricing.slippage_bps`; `filters` overrides filter keys for every leader;
- no caps (`caps=False`) removes every risk limit: caps, breakers, budgets, and cash
  (an opening balance of `UNLIMITED_CASH`); the run then trades on the ideal venue.
- the paper broker's own latency is zero: a backtest's latency is applied once, when the
  leader's fill is delivered to the engine (venue time + `latency_ms`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from polytail.backtest.pricing import PriceModel
from polytail.config.schema import PolytailConfig
from polytail.domain.ids import Address

UNLIMITED_CASH: Final = Decimal(10**12)
"""The opening balance without caps: more than any history can spend."""

NEUTRAL_FILTERS: Final[Mapping[str, Any]] = {
    "min_leader_usdc": Decimal(0),
    "price_min": Decimal(0),
    "price_max": Decimal(1),
    "max_spread": None,
    "min_depth_usdc": None,
    "max_days_to_resolution": None,
    "min_minutes_left": Decimal(0),
    "max_fill_age_s": 1e9,
    "allow_neg_risk": True,
    "categories_allow": [],
    "categories_deny": [],
    "tags_allow": [],
    "tags_deny": [],
    "slug_keywords_allow": [],
    "slug_keywords_deny": [],
}
"""Filters that let every fill through."""

_NO_RISK: Final[Mapping[str, Any]] = {
    "max_order_usdc": UNLIMITED_CASH,
    "max_market_usdc": UNLIMITED_CASH,
    "max_outcome_usdc": UNLIMITED_CASH,
    "max_leader_usdc": UNLIMITED_CASH,
    "max_total_usdc": UNLIMITED_CASH,
    "cash_reserve_usdc": Decimal(0),
    "max_open_orders": 10**9,
    "daily_loss_usdc": None,
    "leader_daily_loss_usdc": None,
    "max_drawdown_pct": None,
    "leader_max_drawdown_pct": None,
    "cooldown_after_loss_s": 0,
}


@dataclass(frozen=True, slots=True)
class BacktestSettings:
    latency_ms: int = 2_000
    jitter_ms: int = 0  # extra latency, uniform in [0, jitter_ms], drawn with `seed`
    slippage_bps: int = 50  # the price model's slippage (what a copy pays)
    depth_usdc: Decimal | None = None
    impact_bps: int = 100
    caps: bool = True
    seed: int = 0
    ratio: Decimal | None = None  # None: the configuration's sizing
    tolerance_bps: int | None = None  # None: the configuration's pricing.slippage_bps
    filters: Mapping[str, Any] = field(default_factory=dict)
    leaders: tuple[Address, ...] = ()  # empty: every wallet in the fills
    book_max_age_ms: int = 60_000
    housekeeping_ms: int = 300_000

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency and jitter must not be negative")
        if self.ratio is not None and self.ratio <= 0:
            raise ValueError(f"ratio must be positive, got {self.ratio}")

    @property
    def ideal(self) -> bool:
        """No caps: the ideal venue (see `backtest.ideal`)."""
        return not self.caps

    @property
    def price_model(self) -> PriceModel:
        return PriceModel(self.slippage_bps, self.depth_usdc, self.impact_bps)

    def describe(self) -> dict[str, Any]:
        """The settings as plain JSON values (decimals as strings)."""
        return {
            "latency_s": str(Decimal(self.latency_ms) / 1000),
            "jitter_s": str(Decimal(self.jitter_ms) / 1000),
            "slippage_bps": self.slippage_bps,
            "depth_usdc": None if self.depth_usdc is None else str(self.depth_usdc),
            "impact_bps": self.impact_bps,
            "caps": self.caps,
            "venue": "ideal" if self.ideal else "real",
            "seed": self.seed,
            "ratio": None if self.ratio is None else str(self.ratio),
            "tolerance_bps": self.tolerance_bps,
            "filters": {key: _plain(value) for key, value in sorted(self.filters.items())},
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def engine_config(
    base: PolytailConfig | None, settings: BacktestSettings, leaders: Sequence[Address]
) -> PolytailConfig:
    """The configuration the engine runs the backtest with (see the module docstring)."""
    source = base or PolytailConfig()
    data = source.model_dump(mode="python")
    filters = dict(data["filters"]) if base is not None else {**data["filters"], **NEUTRAL_FILTERS}
    entries: list[dict[str, Any]] = []
    for wallet in leaders:
        known = source.leader(wallet)
        if known is not None:
            entry = known.model_dump(mode="python")
            entry["enabled"] = True
        else:
            entry = {
                "address": wallet,
                "filters": dict(filters),
                "sizing": dict(data["sizing"]),
            }
        entry["filters"] = {**entry["filters"], **settings.filters}
        if settings.ratio is not None:
            entry["sizing"] = {**entry["sizing"], "mode": "ratio", "ratio": settings.ratio}
        if not settings.caps:
            entry["budget_usdc"] = UNLIMITED_CASH
            entry["sizing"] = {**entry["sizing"], "below_minimum": "skip"}
        entries.append(entry)
    data.update(
        mode="paper",
        account="backtest",
        leaders=entries,
        filters=filters,
        database={"url": "sqlite://", "echo": False},
    )
    data["paper"] = {**data["paper"], "latency_ms": 0}
    if settings.tolerance_bps is not None:
        data["pricing"] = {**data["pricing"], "slippage_bps": settings.tolerance_bps}
    if not settings.caps:
        data["risk"] = {**data["risk"], **_NO_RISK}
        data["paper"]["starting_cash_usdc"] = UNLIMITED_CASH
    return PolytailConfig.model_validate(data)

"""Portfolio risk: breakers that forbid new positions, then caps that can only shrink them.

Checks run in a fixed order and the first breach is the decision's reason. Breakers come
first because they forbid a copy whatever its size, so the reason reported is the real
blocker (a copy stopped by the daily loss limit is not reported as "market cap full"):

1. `risk_daily_loss`: realized PnL today (UTC) at or below -risk.daily_loss_usdc
2. `risk_leader_daily_loss`: the same for this leader's copies
3. `risk_drawdown`: equity this fraction below its peak (risk.max_drawdown_pct)
4. `risk_leader_drawdown`: budget + the leader's PnL this fraction below its peak
5. `risk_cooldown`: a copy of this leader closed at a loss less than the cool-down ago
6. `risk_open_orders`: as many orders open as risk.max_open_orders allows

The kill switch is checked before everything else (`Policy.decide`): nothing is sent
while it is on, exits included.

Caps then bound what the copy may spend (notional at the limit + worst-case fee). Each
gives a headroom; a copy larger than a headroom is reduced to fit it (the code is
recorded as a reduction), and a headroom too small for the venue minimum stops the copy
with that cap's code:

7. `risk_max_order`: risk.max_order_usdc
8. `risk_market_exposure`: risk.max_market_usdc minus the market's exposure
9. `risk_outcome_exposure`: risk.max_outcome_usdc minus the outcome's exposure
10. `risk_leader_budget`: the leader's budget minus its exposure
11. `risk_total_exposure`: risk.max_total_usdc minus total exposure
12. `risk_cash_reserve`: cash minus open BUY reserves minus risk.cash_reserve_usdc

Exits (sells) pass no breaker and no cap: they reduce risk. Only the kill switch stops
them.
"""

from __future__ import annotations

from typing import Final

from polytail.domain.decisions import ReasonCode
from polytail.domain.ids import ConditionId, TokenId
from polytail.domain.money import format_units
from polytail.policy.rules import LeaderRules, RiskRules
from polytail.policy.views import PortfolioView, utc_day

Skip = tuple[ReasonCode, str]


def _below_peak(value: int, peak: int, fraction: tuple[int, int]) -> bool:
    """value is at least `fraction` of `peak` below it (peak must be positive)."""
    numerator, denominator = fraction
    return peak > 0 and (peak - value) * denominator >= numerator * peak


def check_breakers(
    risk: RiskRules,
    leader: LeaderRules,
    portfolio: PortfolioView,
    now_ms: int,
) -> Skip | None:
    day = utc_day(now_ms)
    stats = portfolio.leader(leader.address)
    if risk.daily_loss_units is not None:
        loss = -portfolio.realized_today_on(day).units
        if loss > 0 and loss >= risk.daily_loss_units:
            return (
                ReasonCode.RISK_DAILY_LOSS,
                f"lost {format_units(loss)} today, limit {format_units(risk.daily_loss_units)}",
            )
    if risk.leader_daily_loss_units is not None:
        loss = -portfolio.leader_realized_today_on(leader.address, day).units
        if loss > 0 and loss >= risk.leader_daily_loss_units:
            return (
                ReasonCode.RISK_LEADER_DAILY_LOSS,
                f"{leader.label}'s copies lost {format_units(loss)} today, "
                f"limit {format_units(risk.leader_daily_loss_units)}",
            )
    if risk.max_drawdown is not None and _below_peak(
        portfolio.equity.units, portfolio.peak_equity.units, risk.max_drawdown
    ):
        return (
            ReasonCode.RISK_DRAWDOWN,
            f"equity {portfolio.equity} is {_pct(risk.max_drawdown)} % or more below "
            f"its peak {portfolio.peak_equity}",
        )
    if risk.leader_max_drawdown is not None and _below_peak(
        leader.budget_units + stats.pnl.units,
        leader.budget_units + stats.peak_pnl.units,
        risk.leader_max_drawdown,
    ):
        return (
            ReasonCode.RISK_LEADER_DRAWDOWN,
            f"{leader.label}'s copies are {_pct(risk.leader_max_drawdown)} % or more below "
            f"their peak (PnL {stats.pnl}, peak {stats.peak_pnl})",
        )
    if stats.last_loss_ms is not None and now_ms - stats.last_loss_ms < risk.cooldown_ms:
        wait_s = (stats.last_loss_ms + risk.cooldown_ms - now_ms) / 1000
        return ReasonCode.RISK_COOLDOWN, f"cooling down after a loss for {wait_s:.0f} s more"
    if portfolio.open_orders >= risk.max_open_orders:
        return (
            ReasonCode.RISK_OPEN_ORDERS,
            f"{portfolio.open_orders} orders open, limit {risk.max_open_orders}",
        )
    return None


CAPS: Final = (
    ReasonCode.RISK_MAX_ORDER,
    ReasonCode.RISK_MARKET_EXPOSURE,
    ReasonCode.RISK_OUTCOME_EXPOSURE,
    ReasonCode.RISK_LEADER_BUDGET,
    ReasonCode.RISK_TOTAL_EXPOSURE,
    ReasonCode.RISK_CASH_RESERVE,
)
"""The caps in check order: `headrooms` gives one room per code, in this order."""


def headrooms(
    risk: RiskRules,
    leader: LeaderRules,
    portfolio: PortfolioView,
    *,
    condition: ConditionId,
    token: TokenId,
) -> tuple[int, int, int, int, int, int]:
    """What a new BUY may still spend under each cap of `CAPS`, in that order (may be
    negative). Plain integers, paired with the constant codes by the caller: this runs on
    every BUY copy, and building (code, room) pairs cost more than the subtractions."""
    return (
        risk.max_order_units,
        risk.max_market_units - portfolio.market_exposure_of(condition).units,
        risk.max_outcome_units - portfolio.outcome_exposure_of(token).units,
        leader.budget_units - portfolio.leader(leader.address).exposure.units,
        risk.max_total_units - portfolio.total_exposure.units,
        portfolio.cash.units - portfolio.committed.units - risk.cash_reserve_units,
    )


def _pct(fraction: tuple[int, int]) -> str:
    numerator, denominator = fraction
    return format_units(numerator * 100 * 10**6 // denominator)

"""Breakers and caps: fixed order, first breach reported, caps only ever reduce a size.

The copy under test is the default one: 10 pUSD at a 0.51 limit (19.60 shares, 9.996
pUSD) unless the test raises the sizing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from polytail.domain.decisions import ReasonCode
from polytail.domain.fills import Side
from polytail.domain.money import Shares, Usdc, cost_of
from polytail.policy import LeaderStats, OpenBuy, PortfolioView

from .support import (
    CONDITION,
    DAY,
    LEADER,
    NO,
    NOW_MS,
    OTHER,
    OTHER_CONDITION,
    YES,
    decide,
    fill,
    policy,
    portfolio,
    position,
    price,
    shares,
    usdc,
)

LIMIT = price("0.51")
HOUR_MS = 3_600_000


def exposed(
    *, market: str = "0", outcome: str = "0", leader: str = "0", other: str = "0", **kw: Any
) -> PortfolioView:
    """A portfolio with open buys making exposure: `outcome` on YES for LEADER, `market`
    more on NO (same market) for OTHER, `leader` more on another market for LEADER, and
    `other` on another market for OTHER."""
    buys = [
        OpenBuy(YES, CONDITION, LEADER, usdc(outcome)),
        OpenBuy(NO, CONDITION, OTHER, usdc(market)),
        OpenBuy("99", OTHER_CONDITION, LEADER, usdc(leader)),  # type: ignore[arg-type]
        OpenBuy("98", OTHER_CONDITION, OTHER, usdc(other)),  # type: ignore[arg-type]
    ]
    return portfolio(open_buys=[buy for buy in buys if buy.reserve.is_positive], **kw)


@dataclass(frozen=True)
class Breaker:
    name: str
    expected: ReasonCode
    view: PortfolioView
    risk: dict[str, Any] = field(default_factory=dict)


def _stats(**fields: Any) -> dict[Any, LeaderStats]:
    return {LEADER: LeaderStats(**fields)}


BREAKERS = [
    Breaker(
        "daily loss reached",
        ReasonCode.RISK_DAILY_LOSS,
        portfolio(realized_today=usdc("-100")),
        {"daily_loss_usdc": "100"},
    ),
    Breaker(
        "leader daily loss reached",
        ReasonCode.RISK_LEADER_DAILY_LOSS,
        portfolio(leaders=_stats(realized_today=usdc("-50"))),
        {"leader_daily_loss_usdc": "50"},
    ),
    Breaker(
        "drawdown reached",
        ReasonCode.RISK_DRAWDOWN,
        portfolio(equity="750", peak="1000"),
        {"max_drawdown_pct": "25"},
    ),
    Breaker(
        "leader drawdown reached",
        ReasonCode.RISK_LEADER_DRAWDOWN,
        portfolio(leaders=_stats(pnl=usdc("-110"), peak_pnl=usdc("100"))),
        {"leader_max_drawdown_pct": "35", "max_leader_usdc": "500"},
    ),  # 390 is 35 % below 600
    Breaker(
        "cool-down after a loss",
        ReasonCode.RISK_COOLDOWN,
        portfolio(leaders=_stats(last_loss_ms=NOW_MS - 599_999)),
        {"cooldown_after_loss_s": 600},
    ),
    Breaker(
        "open orders at the limit",
        ReasonCode.RISK_OPEN_ORDERS,
        portfolio(open_orders=20),
        {"max_open_orders": 20},
    ),
]

CLEAR = [
    Breaker(
        "loss just under the daily limit",
        ReasonCode.COPIED,
        portfolio(realized_today=usdc("-99.999999")),
        {"daily_loss_usdc": "100"},
    ),
    Breaker(
        "yesterday's loss does not count today",
        ReasonCode.COPIED,
        PortfolioView.build(
            account=portfolio().account,
            cash=usdc("1000"),
            equity=usdc("1000"),
            peak_equity=usdc("1000"),
            day=DAY - 1,
            realized_today=usdc("-500"),
        ),
        {"daily_loss_usdc": "100"},
    ),
    Breaker(
        "drawdown just under the limit",
        ReasonCode.COPIED,
        portfolio(equity="750.000001", peak="1000"),
        {"max_drawdown_pct": "25"},
    ),
    Breaker(
        "cool-down over",
        ReasonCode.COPIED,
        portfolio(leaders=_stats(last_loss_ms=NOW_MS - 600_000)),
        {"cooldown_after_loss_s": 600},
    ),
    Breaker(
        "one order slot left", ReasonCode.COPIED, portfolio(open_orders=19), {"max_open_orders": 20}
    ),
    Breaker(
        "breakers off",
        ReasonCode.COPIED,
        portfolio(equity="10", peak="1000", realized_today=usdc("-900")),
        {"daily_loss_usdc": None, "max_drawdown_pct": None, "max_total_usdc": "1000"},
    ),
]


@pytest.mark.parametrize("row", BREAKERS + CLEAR, ids=lambda row: row.name)
def test_breakers(row: Breaker) -> None:
    decision = decide(policy(risk=row.risk), fill(), portfolio_=row.view)
    assert decision.primary_reason is row.expected, decision.detail
    if not decision.is_copy:
        assert decision.reasons == (row.expected,)


@pytest.mark.parametrize("row", BREAKERS, ids=lambda row: row.name)
def test_breakers_never_block_an_exit(row: Breaker) -> None:
    held = row.view.bought(
        token=YES,
        condition=CONDITION,
        outcome_index=0,
        leader=LEADER,
        shares=shares("100"),
        notional=usdc("40"),
        fee=Usdc(0),
        seq=1,
    )
    decision = decide(policy(risk=row.risk), fill(Side.SELL), portfolio_=held)
    assert decision.is_copy and decision.reasons[0] is ReasonCode.EXIT_MIRROR


@dataclass(frozen=True)
class Cap:
    name: str
    code: ReasonCode
    risk: dict[str, Any]
    view: PortfolioView
    room: str  # what the cap leaves for this copy


CAPS = [
    Cap("per-order maximum", ReasonCode.RISK_MAX_ORDER, {"max_order_usdc": "5"}, exposed(), "5"),
    Cap(
        "market exposure",
        ReasonCode.RISK_MARKET_EXPOSURE,
        {"max_market_usdc": "200"},
        exposed(market="194"),
        "6",
    ),
    Cap(
        "outcome exposure",
        ReasonCode.RISK_OUTCOME_EXPOSURE,
        {"max_outcome_usdc": "150"},
        exposed(outcome="143"),
        "7",
    ),
    Cap(
        "leader budget",
        ReasonCode.RISK_LEADER_BUDGET,
        {"max_leader_usdc": "500"},
        exposed(leader="492"),
        "8",
    ),
    Cap(
        "total exposure",
        ReasonCode.RISK_TOTAL_EXPOSURE,
        {"max_total_usdc": "1000"},
        exposed(other="991", cash="5000"),
        "9",
    ),
    Cap(
        "cash reserve",
        ReasonCode.RISK_CASH_RESERVE,
        {"cash_reserve_usdc": "100"},
        exposed(other="500", cash="603.5"),
        "3.5",
    ),
]


@pytest.mark.parametrize("row", CAPS, ids=lambda row: row.name)
def test_each_cap_reduces_the_copy_to_its_room(row: Cap) -> None:
    decision = decide(policy(risk=row.risk), fill(), portfolio_=row.view)
    assert decision.reasons == (ReasonCode.COPIED, row.code)
    room = usdc(row.room)
    assert decision.notional + decision.fee <= room
    # the largest size that fits: one step more would not
    assert cost_of(Shares(decision.size.units + 10_000), LIMIT) > room
    assert decision.inputs["room_" + row.code.value.removeprefix("risk_")] == row.room


@pytest.mark.parametrize("row", CAPS, ids=lambda row: row.name)
def test_a_cap_too_small_for_the_venue_minimum_stops_the_copy(row: Cap) -> None:
    """Less room than a minimum order (1 pUSD for a FOK) is a skip with the cap's code:
    the venue minimum never pushes a copy over a cap."""
    tight = {**row.risk}
    view = row.view
    if row.code is ReasonCode.RISK_MAX_ORDER:
        tight["max_order_usdc"] = "0.99"
    elif row.code is ReasonCode.RISK_CASH_RESERVE:
        view = exposed(other="500", cash="600.99")
    elif row.code is ReasonCode.RISK_TOTAL_EXPOSURE:
        view = exposed(other="999.01", cash="5000")
    else:
        key = {"market": "market", "outcome": "outcome", "leader": "leader"}[
            row.code.value.split("_")[1]
        ]
        cap = {"market": "200", "outcome": "150", "leader": "500"}[key]
        view = exposed(**{key: str(usdc(cap) - usdc("0.99"))})
    decision = decide(policy(risk=tight), fill(), portfolio_=view)
    assert decision.reasons == (row.code,)
    assert "minimum" in decision.detail


def test_several_caps_reduce_in_order() -> None:
    rules = policy(risk={"max_order_usdc": "8", "max_market_usdc": "200"})
    decision = decide(rules, fill(), portfolio_=exposed(market="194"))
    assert decision.reasons == (
        ReasonCode.COPIED,
        ReasonCode.RISK_MAX_ORDER,
        ReasonCode.RISK_MARKET_EXPOSURE,
    )
    assert decision.notional <= usdc("6")


def test_the_first_cap_that_makes_the_copy_impossible_is_reported() -> None:
    rules = policy(risk={"max_order_usdc": "8", "max_outcome_usdc": "150", "max_total_usdc": "200"})
    view = exposed(outcome="149.5", other="60")  # outcome room 0.5, total room -9.5
    assert decide(rules, fill(), portfolio_=view).reasons == (ReasonCode.RISK_OUTCOME_EXPOSURE,)


def test_a_breaker_is_reported_before_a_full_cap() -> None:
    rules = policy(risk={"max_market_usdc": "100", "daily_loss_usdc": "10"})
    view = exposed(market="100", realized_today=usdc("-10"))
    assert decide(rules, fill(), portfolio_=view).reasons == (ReasonCode.RISK_DAILY_LOSS,)


def test_a_leader_budget_override_applies() -> None:
    rules = policy(leader={"budget_usdc": "20"})
    view = exposed(leader="15")
    decision = decide(rules, fill(), portfolio_=view)
    assert decision.reasons == (ReasonCode.COPIED, ReasonCode.RISK_LEADER_BUDGET)
    assert decision.notional <= usdc("5")


def test_exposure_counts_held_positions_at_cost() -> None:
    """Exposure is cost basis, not market value: a position bought for 145 blocks the
    outcome cap however its price moved since."""
    rules = policy(risk={"max_outcome_usdc": "150"})
    view = portfolio(positions=[position({LEADER: ("500", "145")})])
    decision = decide(rules, fill(), portfolio_=view)
    assert decision.reasons == (ReasonCode.COPIED, ReasonCode.RISK_OUTCOME_EXPOSURE)
    assert decision.notional <= usdc("5")
    assert view.outcome_exposure_of(YES) == usdc("145")

"""Sizing modes, fee-aware sizing, venue minimums and accumulation of small copies.

Unless a test says otherwise the leader buys at 0.50 and the copy's limit is 0.51
(2 % slippage on a 0.01 tick), so a budget of B pUSD buys floor(B / 0.51) shares on the
0.01 step, and the market charges no fee.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from polytail.domain.decisions import Action, ReasonCode
from polytail.domain.fills import Side
from polytail.domain.market import FeeSchedule
from polytail.domain.money import Price, Shares, Usdc, cost_of
from polytail.domain.venue_rules import MIN_MARKETABLE_NOTIONAL, SIZE_STEP
from polytail.policy import Accumulator, LeaderView, Quote

from .support import (
    CRYPTO_FEES,
    LEADER,
    NOW_MS,
    book,
    decide,
    decide_with_pending,
    fill,
    market,
    policy,
    portfolio,
    position,
    price,
    shares,
    usdc,
)

LIMIT = price("0.51")


@pytest.mark.parametrize(
    ("sizing", "leader_usdc", "equity", "leader_value", "expected_shares"),
    [
        ({"mode": "fixed", "fixed_usdc": "10"}, "50", "1000", None, "19.60"),
        ({"mode": "ratio", "ratio": "0.1"}, "50", "1000", None, "9.80"),  # 5 pUSD
        ({"mode": "bankroll"}, "50", "1000", "10000", "9.80"),  # 50 x 1000/10000 = 5
        ({"mode": "equity_pct", "equity_pct": "2"}, "50", "1000", None, "39.21"),  # 20 pUSD
        (
            {
                "mode": "tiered",
                "tiers": [
                    {"min_leader_usdc": "0", "multiplier": "0.05"},
                    {"min_leader_usdc": "40", "multiplier": "0.2"},
                    {"min_leader_usdc": "100", "multiplier": "0.5"},
                ],
            },
            "50",
            "1000",
            None,
            "19.60",  # tier 40+: 50 x 0.2 = 10 pUSD
        ),
    ],
    ids=["fixed", "ratio", "bankroll", "equity_pct", "tiered"],
)
def test_each_sizing_mode_buys_its_budget_at_the_limit(
    sizing: dict[str, Any],
    leader_usdc: str,
    equity: str,
    leader_value: str | None,
    expected_shares: str,
) -> None:
    rules = policy(sizing=sizing)
    leader = LeaderView(portfolio_value=None if leader_value is None else usdc(leader_value))
    decision = decide(
        rules, fill(usdc_=leader_usdc), portfolio_=portfolio(equity=equity), leader=leader
    )
    assert decision.reasons == (ReasonCode.COPIED,)
    assert decision.size == shares(expected_shares)
    assert decision.limit_price == LIMIT
    assert decision.notional == cost_of(decision.size, LIMIT)
    # the largest size on the step: one step more would exceed the budget
    budget = Usdc.parse(decision.inputs["budget"])
    assert decision.notional <= budget < cost_of(decision.size + SIZE_STEP, LIMIT)


def test_tiers_pick_the_highest_tier_reached_and_skip_below_the_first() -> None:
    tiers = {
        "mode": "tiered",
        "tiers": [
            {"min_leader_usdc": "20", "multiplier": "0.1"},
            {"min_leader_usdc": "100", "multiplier": "0.5"},
        ],
    }
    rules = policy(sizing=tiers)
    assert decide(rules, fill(usdc_="99.99")).inputs["budget"] == "9.999"
    assert decide(rules, fill(usdc_="100")).inputs["budget"] == "50"
    below = decide(rules, fill(usdc_="19.99"))
    assert below.reasons == (ReasonCode.SIZE_ZERO,)


def test_bankroll_sizing_skips_when_the_leader_portfolio_is_unknown() -> None:
    rules = policy(sizing={"mode": "bankroll"})
    for leader in (LeaderView(), LeaderView(portfolio_value=Usdc(0))):
        assert decide(rules, fill(), leader=leader).reasons == (ReasonCode.SIZE_BANKROLL_UNKNOWN,)


def test_equity_sizing_with_no_equity_copies_nothing() -> None:
    rules = policy(sizing={"mode": "equity_pct", "equity_pct": "5"})
    assert decide(rules, fill(), portfolio_=portfolio(equity="0")).reasons == (
        ReasonCode.SIZE_ZERO,
    )


def test_fee_aware_sizing_keeps_notional_plus_fee_within_the_budget() -> None:
    """On a fee market the fee is paid on top of the notional; fee-aware sizing makes the
    sum fit the budget, at the worst fee price the order can fill at (0.50 here)."""
    fee_market = Quote(market(fees=CRYPTO_FEES), book())
    aware = decide(policy(sizing={"fixed_usdc": "10"}), fill(), fee_market)
    fee = CRYPTO_FEES.taker_fee(aware.size, price("0.50"))
    assert aware.fee == fee
    assert aware.notional + aware.fee <= usdc("10")
    bigger = aware.size + SIZE_STEP
    assert cost_of(bigger, LIMIT) + CRYPTO_FEES.taker_fee(bigger, price("0.50")) > usdc("10")
    # without fee awareness the notional alone fits the budget and the fee comes on top
    plain = decide(policy(sizing={"fixed_usdc": "10", "fee_aware": False}), fill(), fee_market)
    assert plain.size == shares("19.60") > aware.size
    assert plain.notional <= usdc("10") < plain.notional + plain.fee


def test_the_fee_estimate_uses_the_worst_price_the_order_can_fill_at() -> None:
    """Fees peak at 0.50: a BUY limited at 0.60 that may fill from 0.45 is charged as if at
    0.50; one that can only fill from 0.55 to 0.60 is charged at 0.55."""
    rules = policy(pricing={"slippage_bps": 0})
    low_book = book(bids=(("0.44", "10"),), asks=(("0.45", "100"), ("0.60", "100")))
    high_book = book(bids=(("0.54", "10"),), asks=(("0.55", "100"), ("0.60", "100")))
    for book_, worst in ((low_book, "0.50"), (high_book, "0.55")):
        decision = decide(
            rules,
            fill(price_="0.60"),
            Quote(market(fees=CRYPTO_FEES), book_),
        )
        assert decision.limit_price == price("0.60")
        assert decision.fee == CRYPTO_FEES.taker_fee(decision.size, price(worst))


@pytest.mark.parametrize(
    ("order_type", "budget", "expected"),
    [
        ("FOK", "0.99", ReasonCode.SIZE_BELOW_MINIMUM),  # 1.94 shares = 0.9894 < 1 pUSD
        ("FOK", "1.02", ReasonCode.COPIED),  # 2 shares = 1.02 pUSD
        ("FAK", "0.99", ReasonCode.SIZE_BELOW_MINIMUM),
        ("GTC", "2.54", ReasonCode.SIZE_BELOW_MINIMUM),  # 4.98 shares < 5
        ("GTC", "2.55", ReasonCode.COPIED),  # 5 shares
    ],
)
def test_venue_minimums_by_order_type(order_type: str, budget: str, expected: ReasonCode) -> None:
    rules = policy(sizing={"fixed_usdc": budget}, pricing={"buy_order_type": order_type})
    decision = decide(rules, fill())
    assert decision.primary_reason is expected
    if decision.is_copy:
        if order_type == "GTC":
            assert decision.size >= shares("5")
        else:
            assert decision.notional >= MIN_MARKETABLE_NOTIONAL


def test_the_market_minimum_size_from_the_book_wins_when_larger() -> None:
    rules = policy(sizing={"fixed_usdc": "4"}, pricing={"buy_order_type": "GTC"})
    assert decide(rules, fill()).is_copy  # 7.84 shares >= 5
    strict = Quote(market(), book(min_size=shares("10")))
    assert decide(rules, fill(), strict).reasons == (ReasonCode.SIZE_BELOW_MINIMUM,)


def test_small_copies_accumulate_until_they_reach_the_minimum() -> None:
    """0.40 pUSD per fill: the first two wait, the third reaches 1.2 pUSD and is sent."""
    rules = policy(sizing={"fixed_usdc": "0.4", "below_minimum": "accumulate"})
    pending = Accumulator()
    first, pending = decide_with_pending(rules, fill(), pending=pending)
    second, pending = decide_with_pending(rules, fill(), pending=pending, now_ms=NOW_MS + 1000)
    assert first.reasons == second.reasons == (ReasonCode.SIZE_ACCUMULATING,)
    entry = pending.get(first.token_id, LEADER)  # type: ignore[arg-type]
    assert entry is not None and entry.buy == usdc("0.8") and entry.fills == 2
    third, pending = decide_with_pending(rules, fill(), pending=pending, now_ms=NOW_MS + 2000)
    assert third.reasons == (ReasonCode.COPIED, ReasonCode.SIZE_ACCUMULATED)
    assert third.inputs["budget"] == "1.2"
    assert third.size == shares("2.35")  # floor(1.2 / 0.51) on the step
    assert len(pending) == 0  # consumed


def test_accumulated_amounts_expire_and_a_leader_sell_voids_them() -> None:
    rules = policy(
        sizing={"fixed_usdc": "0.6", "below_minimum": "accumulate", "accumulate_window_s": 60}
    )
    _, pending = decide_with_pending(rules, fill())
    late, pending = decide_with_pending(rules, fill(), pending=pending, now_ms=NOW_MS + 60_000)
    assert late.reasons == (ReasonCode.SIZE_ACCUMULATING,)  # started over: 0.6 < 1
    assert rules.expire_pending(pending, NOW_MS + 120_000) == Accumulator()
    held = portfolio(positions=[position({LEADER: ("100", "50")})])
    _, pending = decide_with_pending(rules, fill(Side.SELL), portfolio_=held, pending=pending)
    assert pending == Accumulator()  # the leader sold: its small buys are void


def test_a_copy_below_the_minimum_is_skipped_by_default_and_leaves_nothing_behind() -> None:
    rules = policy(sizing={"fixed_usdc": "0.5"})
    decision, pending = decide_with_pending(rules, fill())
    assert decision.reasons == (ReasonCode.SIZE_BELOW_MINIMUM,)
    assert decision.size == Shares(0) and decision.action is Action.SKIP
    assert pending == Accumulator()


def test_sizing_is_exact_at_every_tick() -> None:
    """Limits on a 0.001 tick and leader prices off any tick still give exact sizes."""
    rules = policy(sizing={"fixed_usdc": "25"}, pricing={"slippage_bps": 150})
    fine = Quote(
        market(tick=Price.parse("0.001")),
        book(bids=(("0.859", "100"),), asks=(("0.861", "1000"),)),
    )
    decision = decide(rules, fill(price_=str(Decimal("0.860000001148"))), fine)
    # 0.860000001148 x 1.015 = 0.87290000116522 -> 0.872 on the 0.001 tick
    assert decision.limit_price == Price.parse("0.872")
    assert decision.size == shares("28.66")  # floor(25 / 0.872 = 28.669...)
    assert decision.notional == cost_of(decision.size, decision.limit_price) <= usdc("25")


def test_fee_aware_sizing_with_a_fractional_fee_exponent() -> None:
    """A fractional exponent cannot be exact; the size still fits the budget with the
    schedule's own (rounded-up) fee, and is the largest that does."""
    fees = FeeSchedule(rate=Decimal("0.1"), exponent=Decimal("0.5"))
    decision = decide(policy(), fill(), Quote(market(fees=fees), book()))
    fee = fees.taker_fee(decision.size, price("0.50"))
    assert decision.fee == fee
    assert decision.notional + fee <= usdc("10")
    bigger = decision.size + SIZE_STEP
    assert cost_of(bigger, LIMIT) + fees.taker_fee(bigger, price("0.50")) > usdc("10")

"""Limit prices from the leader's price and the slippage tolerance, checked on the book."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polytail.domain.decisions import ReasonCode
from polytail.domain.fills import Side
from polytail.domain.money import Price, Shares
from polytail.domain.orders import OrderType
from polytail.policy import Quote
from polytail.policy.pricing import buy_limit, minimum_shares, sell_limit

from .support import (
    LEADER,
    NOW_S,
    book,
    decide,
    fill,
    market,
    policy,
    portfolio,
    position,
    price,
    shares,
)

TICK_01 = price("0.01").micros


@pytest.mark.parametrize(
    ("leader", "bps", "tick", "buy", "sell"),
    [
        ("0.50", 200, "0.01", "0.51", "0.49"),
        ("0.505", 0, "0.01", "0.50", "0.51"),  # off-tick leader price: never worse for us
        ("0.505", 200, "0.01", "0.51", "0.50"),  # 0.5151 down, 0.4949 up
        ("0.860000001148", 150, "0.001", "0.872", "0.848"),
        ("0.98", 5000, "0.01", "0.99", "0.49"),  # clamped to 1 - tick
        ("0.02", 5000, "0.01", "0.03", "0.01"),  # clamped to tick
    ],
)
def test_limits_round_against_us_onto_the_tick(
    leader: str, bps: int, tick: str, buy: str, sell: str
) -> None:
    micros = price(tick).micros
    assert buy_limit(Decimal(leader), bps, micros) == price(buy).micros
    assert sell_limit(Decimal(leader), bps, micros) == price(sell).micros


def test_no_tradable_price_within_the_tolerance_is_off_tick() -> None:
    assert buy_limit(Decimal("0.009"), 0, TICK_01) is None
    assert sell_limit(Decimal("0.995"), 0, TICK_01) is None
    rules = policy(filters={"price_min": "0", "max_spread": None}, pricing={"slippage_bps": 0})
    thin = Quote(market(), book(bids=(), asks=(("0.01", "1000"),)))
    decision = decide(rules, fill(price_="0.009", size="1000"), thin)
    assert decision.reasons == (ReasonCode.PRICE_OFF_TICK,)


def test_the_book_tick_wins_over_the_market_tick() -> None:
    """Ticks change near 0 and 1; the book carries the fresher one."""
    rules = policy(pricing={"slippage_bps": 100})
    coarse = Quote(market(), book(tick=price("0.1")))
    assert decide(rules, fill(), coarse).limit_price == price("0.5")  # 0.505 down to 0.1


def test_a_marketable_buy_with_nothing_within_the_limit_is_slippage() -> None:
    away = Quote(market(), book(bids=(("0.51", "100"),), asks=(("0.52", "100"),)))
    decision = decide(policy(), fill(), away)  # limit 0.51
    assert decision.reasons == (ReasonCode.PRICE_SLIPPAGE,)


def test_a_gtc_copy_rests_at_its_limit_with_a_time_limit() -> None:
    rules = policy(pricing={"buy_order_type": "GTC", "gtc_ttl_s": 90})
    away = Quote(market(), book(bids=(("0.51", "100"),), asks=(("0.52", "100"),)))
    decision = decide(rules, fill(), away)
    assert decision.is_copy and decision.order_type is OrderType.GTC
    assert decision.limit_price == price("0.51")
    assert decision.expires_at == NOW_S + 90


def test_fok_copies_shrink_to_the_book_within_the_limit() -> None:
    thin = Quote(market(), book(asks=(("0.50", "4.567"), ("0.52", "1000"))))
    decision = decide(policy(), fill(), thin)
    assert decision.reasons == (ReasonCode.COPIED, ReasonCode.BOOK_LIQUIDITY)
    assert decision.size == shares("4.56")  # what is there, on the step
    too_thin = Quote(market(), book(asks=(("0.50", "1.5"), ("0.52", "1000"))))
    assert decide(policy(), fill(), too_thin).reasons == (ReasonCode.BOOK_LIQUIDITY,)


def test_fak_copies_take_what_is_there_at_full_size() -> None:
    rules = policy(pricing={"buy_order_type": "FAK"})
    thin = Quote(market(), book(asks=(("0.50", "1.5"), ("0.52", "1000"))))
    decision = decide(rules, fill(), thin)
    assert decision.reasons == (ReasonCode.COPIED,)
    assert decision.size == shares("19.60") and decision.order_type is OrderType.FAK


def test_mirror_sells_are_limited_below_the_leader_price() -> None:
    held = portfolio(positions=[position({LEADER: ("100", "40")})])
    decision = decide(policy(), fill(Side.SELL, "0.50"), portfolio_=held)
    assert decision.limit_price == price("0.49") and decision.order_type is OrderType.FAK
    # a bid side entirely below the limit: nothing to sell into
    low = Quote(market(), book(bids=(("0.45", "500"),), asks=(("0.46", "100"),)))
    assert decide(policy(), fill(Side.SELL, "0.50"), low, held).reasons == (
        ReasonCode.PRICE_SLIPPAGE,
    )


@pytest.mark.parametrize(
    ("order_type", "limit", "min_size", "expected"),
    [
        (OrderType.FOK, "0.50", "5", "2"),  # 2 x 0.50 = 1 pUSD exactly
        (OrderType.FAK, "0.51", "5", "1.97"),  # 1.96 x 0.51 = 0.9996 < 1
        (OrderType.FOK, "0.001", "5", "1000"),
        (OrderType.GTC, "0.50", "5", "5"),
        (OrderType.GTC, "0.50", "1.234", "1.24"),  # minimums land on the step, upwards
    ],
)
def test_venue_minimum_shares(
    order_type: OrderType, limit: str, min_size: str, expected: str
) -> None:
    floor = minimum_shares(order_type, price(limit).micros, shares(min_size).units)
    assert Shares(floor) == shares(expected)


def test_decisions_name_the_facts_they_used() -> None:
    decision = decide(policy(), fill())
    facts = dict(decision.inputs)
    assert facts["leader_price"] == "0.50" and facts["leader_usdc"] == "50"
    assert facts["best_bid"] == "0.49" and facts["best_ask"] == "0.5"
    assert facts["limit"] == "0.51" and facts["asks_within_limit"] == "800"
    assert facts["room_max_order"] == "50" and facts["room_cash_reserve"] == "1000"
    assert all(isinstance(value, str) for value in facts.values())
    assert Price.parse(facts["limit"]) == decision.limit_price

"""The matching engine: price-time priority, order types, funds, fees, resolution."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polytail.sim.engine import (
    FOK_NOT_FILLED,
    OPERATOR,
    Engine,
    MarketRules,
    Order,
    OrderRejected,
)
from polytail.sim.money import UNIT, taker_fee

EXCHANGE = "0xE111180000d2663C0091e4f400237545B87B996B"
YES, NO = "111", "222"
CONDITION = "0x" + "ab" * 32


def new_engine(fee_rate: str = "0") -> Engine:
    engine = Engine()
    engine.add_market(
        MarketRules(
            CONDITION,
            (YES, NO),
            tick=10_000,
            min_size=5 * UNIT,
            exchange=EXCHANGE,
            fee_rate=Decimal(fee_rate),
        )
    )
    return engine


def funded(engine: Engine, wallet: str, pusd: int = 10_000 * UNIT, sets: int = 0) -> str:
    engine.mint(wallet, pusd)
    engine.approve(wallet, EXCHANGE)
    engine.set_approval_for_all(wallet, EXCHANGE)
    if sets:
        engine.split(wallet, CONDITION, sets)
    return wallet


_ids = iter(range(10**9))


def order(
    wallet: str,
    side: str,
    shares: float,
    price: str,
    kind: str = "GTC",
    token: str = YES,
    **options: object,
) -> Order:
    return Order(
        id=f"o{next(_ids)}",
        wallet=wallet,
        token_id=token,
        side=side,  # type: ignore[arg-type]
        limit=Fraction(int(Decimal(price) * UNIT)),
        quantity=int(shares * UNIT),
        order_type=kind,
        **options,
    )  # type: ignore[arg-type]


def test_a_taker_fills_at_the_best_price_and_oldest_order_first() -> None:
    engine = new_engine()
    first = funded(engine, "first", sets=100 * UNIT)
    second = funded(engine, "second", sets=100 * UNIT)
    cheaper = funded(engine, "cheaper", sets=100 * UNIT)
    engine.place(order(first, "SELL", 10, "0.60"))
    engine.place(order(second, "SELL", 10, "0.60"))
    engine.place(order(cheaper, "SELL", 10, "0.59"))
    taker = funded(engine, "taker")
    done = engine.place(order(taker, "BUY", 15, "0.60", "FAK"))
    assert [(f.maker_wallet, f.shares, f.price) for f in done.fills] == [
        ("cheaper", 10 * UNIT, 590_000),
        ("first", 5 * UNIT, 600_000),
    ]
    assert engine.balance(taker, YES) == 15 * UNIT
    assert engine.balance(taker) == 10_000 * UNIT - (5_900_000 + 3_000_000)


def test_fok_fills_everything_or_changes_nothing() -> None:
    engine = new_engine()
    maker = funded(engine, "maker", sets=10 * UNIT)
    engine.place(order(maker, "SELL", 10, "0.50"))
    taker = funded(engine, "taker")
    before = (engine.balance(taker), engine.balance(maker), engine.balance(maker, YES))
    with pytest.raises(OrderRejected) as rejected:
        engine.place(order(taker, "BUY", 11, "0.50", "FOK"))
    assert rejected.value.message == FOK_NOT_FILLED
    assert (engine.balance(taker), engine.balance(maker), engine.balance(maker, YES)) == before
    assert engine.place(order(taker, "BUY", 10, "0.50", "FOK")).shares == 10 * UNIT


def test_post_only_that_would_cross_is_refused() -> None:
    engine = new_engine()
    maker = funded(engine, "maker", sets=10 * UNIT)
    engine.place(order(maker, "SELL", 10, "0.50"))
    with pytest.raises(OrderRejected, match="crosses book"):
        engine.place(order(funded(engine, "b"), "BUY", 10, "0.50", post_only=True))


def test_limits_break_tick_and_minimum_size_with_the_venues_words() -> None:
    engine = new_engine()
    buyer = funded(engine, "buyer")
    with pytest.raises(OrderRejected, match=r"breaks minimum tick size rule: 0\.01"):
        engine.place(order(buyer, "BUY", 10, "0.505"))
    with pytest.raises(OrderRejected, match=r"Size \(1.08\) lower than the minimum: 5"):
        engine.place(order(buyer, "BUY", 1.08, "0.50"))


def test_not_enough_balance_counts_what_open_orders_already_reserve() -> None:
    engine = new_engine()
    buyer = funded(engine, "buyer", pusd=10 * UNIT)
    engine.place(order(buyer, "BUY", 10, "0.60"))
    with pytest.raises(OrderRejected, match="not enough balance / allowance"):
        engine.place(order(buyer, "BUY", 10, "0.50"))


def test_a_buy_without_allowance_is_refused() -> None:
    engine = new_engine()
    engine.mint("plain", 100 * UNIT)
    with pytest.raises(OrderRejected, match="the allowance is not enough"):
        engine.place(order("plain", "BUY", 10, "0.50"))


def test_the_taker_pays_the_fee_curve_and_the_operator_collects_it() -> None:
    engine = new_engine(fee_rate="0.07")
    maker = funded(engine, "maker", sets=100 * UNIT)
    engine.place(order(maker, "SELL", 100, "0.40"))
    taker = funded(engine, "taker")
    done = engine.place(order(taker, "BUY", 100, "0.40", "FAK"))
    expected = taker_fee(100 * UNIT, 400_000, Decimal("0.07"), Decimal(1))
    assert expected == 1_680_000  # 100 × 0.07 × 0.4 × 0.6
    assert done.fee == expected and engine.balance(OPERATOR) == expected
    assert engine.balance(maker) == 10_000 * UNIT - 100 * UNIT + 40 * UNIT


def test_resolution_cancels_orders_and_redemption_pays_once() -> None:
    engine = new_engine()
    holder = funded(engine, "holder", pusd=100 * UNIT, sets=50 * UNIT)
    resting = engine.place(order(holder, "SELL", 10, "0.70")).order
    engine.resolve(CONDITION, (UNIT, 0))
    assert resting.status == "CANCELED_MARKET_RESOLVED"
    paid, _ = engine.redeem(holder, CONDITION)
    assert paid == 50 * UNIT
    assert engine.redeem(holder, CONDITION)[0] == 0
    assert engine.collateral_total() == engine.minted


def test_gtd_orders_expire_a_minute_before_their_expiration() -> None:
    engine = new_engine()
    buyer = funded(engine, "buyer")
    placed = engine.place(order(buyer, "BUY", 10, "0.40", "GTD", expiration=1_000), now=500)
    assert engine.expire(939) == [] and placed.order.status == "LIVE"
    assert engine.expire(940) == [placed.order]
    assert engine.available(buyer) == engine.balance(buyer)


actions = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),
        st.sampled_from(["BUY", "SELL"]),
        st.integers(min_value=5, max_value=60),
        st.integers(min_value=1, max_value=99),
        st.sampled_from(["GTC", "GTC", "FAK", "FOK"]),
        st.sampled_from([YES, NO]),
        st.booleans(),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=120, deadline=None)
@given(actions, st.sampled_from(["0", "0.07", "0.25"]))
def test_random_order_flow_keeps_the_books_uncrossed_and_every_unit_accounted(
    flow: list[tuple[str, str, int, int, str, str, bool]], fee_rate: str
) -> None:
    engine = new_engine(fee_rate)
    for wallet in "abcd":
        funded(engine, wallet, pusd=5_000 * UNIT, sets=200 * UNIT)
    for wallet, side, shares, cents, kind, token, cancel_one in flow:
        with contextlib.suppress(OrderRejected):
            engine.place(order(wallet, side, shares, f"0.{cents:02d}", kind, token))
        if cancel_one and engine.open_orders(wallet):
            engine.cancel(engine.open_orders(wallet)[0].id)
        assert engine.crossed_books() == []
        assert engine.collateral_total() == engine.minted
        for tok in (YES, NO):
            assert engine.shares_total(tok) == engine.supply[tok]
        for holder in "abcd":
            for asset in ("pUSD", YES, NO):
                assert 0 <= engine.available(holder, asset) <= engine.balance(holder, asset)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(5, 30), st.integers(40, 60)), min_size=1, max_size=12),
    st.integers(5, 400),
)
def test_fok_is_all_or_nothing_and_fills_follow_price_then_time(
    asks: list[tuple[int, int]], wanted: int
) -> None:
    engine = new_engine()
    placed = []
    for index, (shares, cents) in enumerate(asks):
        maker = funded(engine, f"m{index}", sets=shares * UNIT)
        placed.append(engine.place(order(maker, "SELL", shares, f"0.{cents:02d}")).order)
    taker = funded(engine, "taker")
    available = sum(shares for shares, _ in asks) * UNIT
    try:
        done = engine.place(order(taker, "BUY", wanted, "0.60", "FOK"))
    except OrderRejected:
        assert wanted * UNIT > available
        assert engine.balance(taker, YES) == 0 and all(o.remaining == o.quantity for o in placed)
        return
    assert done.shares == wanted * UNIT
    priority = sorted(placed, key=lambda o: (o.price, o.sequence))
    touched = [fill.maker_order for fill in done.fills]
    assert touched == [o.id for o in priority[: len(touched)]]
    assert all(o.remaining == 0 for o in priority[: len(touched) - 1])

"""The order state machine allows exactly the transitions the venue can produce."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, ClientOrderId, ConditionId, TokenId
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.orders import (
    TERMINAL_STATES,
    TRANSITIONS,
    IllegalTransition,
    Order,
    OrderIntent,
    OrderState,
    OrderType,
)


def intent(side: Side = Side.BUY, order_type: OrderType = OrderType.FOK) -> OrderIntent:
    return OrderIntent(
        client_id=ClientOrderId("pt-1"),
        account=AccountId("default"),
        intent_key="copy:f1",
        token_id=TokenId("7"),
        condition_id=ConditionId("0x" + "1" * 64),
        side=side,
        order_type=order_type,
        limit_price=Price.parse("0.5"),
        size=Shares.parse("10"),
        max_spend=Usdc.parse("5"),
        created_at_ms=1,
    )


def test_happy_path_of_a_resting_order() -> None:
    order = Order(intent(order_type=OrderType.GTC))
    order = order.to(OrderState.SENT, at_ms=2)
    order = order.to(OrderState.LIVE, at_ms=3, venue_order_id="0xabc")
    order = order.to(
        OrderState.PARTIAL, at_ms=4, filled=Shares.parse("4"), filled_notional=Usdc.parse("2")
    )
    order = order.to(
        OrderState.PARTIAL, at_ms=5, filled=Shares.parse("6"), filled_notional=Usdc.parse("3")
    )
    order = order.to(
        OrderState.MATCHED, at_ms=6, filled=Shares.parse("10"), filled_notional=Usdc.parse("5")
    )
    assert order.state is OrderState.MATCHED and order.remaining == Shares(0)


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATES))
def test_terminal_states_are_final(terminal: OrderState) -> None:
    for target in OrderState:
        with pytest.raises(IllegalTransition):
            Order(intent(), state=terminal).to(target, at_ms=1)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (OrderState.PENDING, OrderState.MATCHED),  # nothing fills before it is sent
        (OrderState.PENDING, OrderState.LIVE),
        (OrderState.LIVE, OrderState.SENT),
        (OrderState.PARTIAL, OrderState.LIVE),  # fills are never undone
        (OrderState.SENT, OrderState.PENDING),
    ],
)
def test_illegal_transitions_raise(current: OrderState, target: OrderState) -> None:
    with pytest.raises(IllegalTransition, match=f"{current} -> {target}"):
        Order(intent(), state=current).to(target, at_ms=1)


@given(st.lists(st.sampled_from(list(OrderState)), max_size=12))
def test_any_sequence_either_follows_the_table_or_raises(targets: list[OrderState]) -> None:
    order = Order(intent(order_type=OrderType.GTC))
    for target in targets:
        if target in TRANSITIONS[order.state]:
            order = order.to(target, at_ms=1)
            assert order.state is target
        else:
            with pytest.raises(IllegalTransition):
                order.to(target, at_ms=1)


def test_filled_quantity_never_decreases() -> None:
    order = Order(intent(), state=OrderState.PARTIAL, filled=Shares.parse("5"))
    with pytest.raises(ValueError, match="cannot decrease"):
        order.to(OrderState.PARTIAL, at_ms=1, filled=Shares.parse("4"))


def test_a_sell_never_fills_more_than_its_size() -> None:
    order = Order(intent(side=Side.SELL), state=OrderState.SENT)
    with pytest.raises(ValueError, match="more than its size"):
        order.to(OrderState.MATCHED, at_ms=1, filled=Shares.parse("10.01"))


def test_a_buy_never_spends_more_than_its_ceiling() -> None:
    order = Order(intent(), state=OrderState.SENT)
    with pytest.raises(ValueError, match="more than its ceiling"):
        order.to(
            OrderState.MATCHED,
            at_ms=1,
            filled=Shares.parse("10"),
            filled_notional=Usdc.parse("5.000001"),
        )


def test_intent_rules() -> None:
    with pytest.raises(ValueError, match="post-only"):
        replace(intent(order_type=OrderType.FOK), post_only=True)
    with pytest.raises(ValueError, match="positive"):
        replace(intent(), size=Shares(0))
    with pytest.raises(ValueError, match="expiry"):
        replace(intent(), order_type=OrderType.GTD)
    assert replace(intent(order_type=OrderType.GTC), post_only=True).post_only

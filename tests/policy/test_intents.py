"""A copy decision becomes the order intent the order manager writes before sending."""

from __future__ import annotations

import pytest

from polytail.domain.fills import Side
from polytail.domain.ids import client_order_id, copy_intent_key
from polytail.domain.money import Usdc
from polytail.domain.orders import OrderType
from polytail.policy import NotACopy, order_intent

from .support import (
    ACCOUNT,
    CONDITION,
    LEADER,
    NOW_MS,
    NOW_S,
    YES,
    decide,
    fill,
    policy,
    portfolio,
    position,
)


def test_a_buy_copy_becomes_an_intent_with_a_deterministic_id() -> None:
    leader_fill = fill()
    decision = decide(policy(pricing={"buy_order_type": "GTC", "gtc_ttl_s": 60}), leader_fill)
    intent = order_intent(decision)
    assert intent.client_id == client_order_id(ACCOUNT, copy_intent_key(leader_fill.fill_id))
    assert intent.intent_key == f"copy:{leader_fill.fill_id}"
    assert (intent.token_id, intent.condition_id) == (YES, CONDITION)
    assert intent.side is Side.BUY and intent.order_type is OrderType.GTC
    assert intent.size == decision.size and intent.limit_price == decision.limit_price
    assert intent.max_spend == decision.notional  # fees are on top, not in the ceiling
    assert intent.expires_at == NOW_S + 60 and intent.created_at_ms == NOW_MS
    assert intent.fill_id == leader_fill.fill_id and intent.leader == LEADER
    assert order_intent(decision) == intent  # the same decision, the same order


def test_a_sell_copy_spends_nothing() -> None:
    held = portfolio(positions=[position({LEADER: ("100", "40")})])
    intent = order_intent(decide(policy(), fill(Side.SELL), portfolio_=held))
    assert intent.side is Side.SELL and intent.max_spend == Usdc(0)
    assert intent.order_type is OrderType.FAK and intent.expires_at is None


def test_a_skip_has_no_order() -> None:
    skip = decide(policy(filters={"price_max": "0.1"}), fill())
    with pytest.raises(NotACopy, match="filter_price_band"):
        order_intent(skip)

"""Orders: an intent is written once per (account, intent key), whatever races; states move
only along the state machine and only from the state the caller read; every step is kept."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from polytail.domain.fills import Side
from polytail.domain.ids import (
    AccountId,
    Address,
    ConditionId,
    FillId,
    TokenId,
    client_order_id,
    copy_intent_key,
)
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.orders import IllegalTransition, Order, OrderIntent, OrderState, OrderType
from polytail.store import StaleOrder, Store

ACCOUNT = AccountId("default")
LEADER = Address("0x" + "a" * 40)


def intent(fill: str = "f1", account: AccountId = ACCOUNT, at_ms: int = 1_000) -> OrderIntent:
    key = copy_intent_key(FillId(fill))
    return OrderIntent(
        client_id=client_order_id(account, key),
        account=account,
        intent_key=key,
        token_id=TokenId("101"),
        condition_id=ConditionId("0x" + "1" * 64),
        side=Side.BUY,
        order_type=OrderType.FOK,
        limit_price=Price.parse("0.52"),
        size=Shares.parse("20"),
        max_spend=Usdc.parse("10.4"),
        created_at_ms=at_ms,
        fill_id=FillId(fill),
        leader=LEADER,
    )


def test_an_intent_is_created_once_per_account_and_leader_fill(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.orders.create_intent(intent("f1")) is True
        assert tx.orders.create_intent(intent("f1", at_ms=2_000)) is False
        assert tx.orders.create_intent(intent("f1", account=AccountId("other"))) is True
    with store.read() as tx:
        stored = tx.orders.by_intent(ACCOUNT, "copy:f1")
        assert stored == Order(intent=intent("f1"), updated_at_ms=1_000)
        assert tx.orders.get(intent("f1").client_id) == stored


def test_concurrent_writers_create_each_intent_exactly_once(store_url: str) -> None:
    """Eight writers, each with its own store and connection, race on the same 40 intents."""
    fills = [f"f{number}" for number in range(40)]
    stores = [Store.open(store_url) for _ in range(8)]
    start = threading.Barrier(len(stores))

    def race(writer: Store) -> list[str]:
        start.wait()
        won = []
        for fill in fills:
            with writer.transaction() as tx:
                if tx.orders.create_intent(intent(fill)):
                    won.append(fill)
        return won

    try:
        with ThreadPoolExecutor(max_workers=len(stores)) as pool:
            results = list(pool.map(race, stores))
    finally:
        for writer in stores:
            writer.close()
    wins = Counter(fill for won in results for fill in won)
    assert wins == Counter(fills)  # every intent won by exactly one writer
    with Store.open(store_url) as check, check.read() as tx:
        assert len(tx.orders.in_states(ACCOUNT, [OrderState.PENDING])) == len(fills)
        assert all(len(tx.orders.events(intent(fill).client_id)) == 1 for fill in fills)


def test_a_transition_is_written_with_its_event(store: Store) -> None:
    pending = Order(intent=intent(), updated_at_ms=1_000)
    sent = pending.to(OrderState.SENT, at_ms=1_001)
    partial = sent.to(
        OrderState.PARTIAL,
        at_ms=1_050,
        venue_order_id="0xorder",
        filled=Shares.parse("5"),
        filled_notional=Usdc.parse("2.6"),
    )
    with store.transaction() as tx:
        tx.orders.create_intent(pending.intent)
        tx.orders.transition(pending, sent, source="send")
        tx.orders.transition(sent, partial, source="user_ws", detail="trade 0xt1")
    with store.read() as tx:
        assert tx.orders.get(pending.client_id) == partial
        assert tx.orders.by_venue_id("0xorder") == partial
        steps = [(e.from_state, e.to_state, e.source) for e in tx.orders.events(pending.client_id)]
        assert steps == [
            (None, OrderState.PENDING, "intent"),
            (OrderState.PENDING, OrderState.SENT, "send"),
            (OrderState.SENT, OrderState.PARTIAL, "user_ws"),
        ]
        assert tx.orders.open_count(ACCOUNT) == 1


def test_an_illegal_transition_is_refused_and_nothing_is_written(store: Store) -> None:
    pending = Order(intent=intent(), updated_at_ms=1_000)
    with store.transaction() as tx:
        tx.orders.create_intent(pending.intent)
    rejected = pending.to(OrderState.REJECTED, at_ms=2, error="invalid signature")
    with store.transaction() as tx:
        tx.orders.transition(pending, rejected, source="send")
    revived = replace(rejected, state=OrderState.LIVE)
    with pytest.raises(IllegalTransition, match="REJECTED -> LIVE"), store.transaction() as tx:
        tx.orders.transition(rejected, revived, source="poll")
    with store.read() as tx:
        assert tx.orders.get(pending.client_id) == rejected
        assert tx.orders.open_count(ACCOUNT) == 0


def test_a_transition_from_a_stale_read_is_refused(store: Store) -> None:
    pending = Order(intent=intent(), updated_at_ms=1_000)
    sent = pending.to(OrderState.SENT, at_ms=2)
    with store.transaction() as tx:
        tx.orders.create_intent(pending.intent)
        tx.orders.transition(pending, sent, source="send")
    matched = sent.to(
        OrderState.MATCHED, at_ms=3, filled=Shares.parse("20"), filled_notional=Usdc.parse("10.4")
    )
    with store.transaction() as tx:
        tx.orders.transition(sent, matched, source="reply")
    # A slower path (polling) still holds the SENT order and thinks it was cancelled.
    with pytest.raises(StaleOrder, match="is MATCHED"), store.transaction() as tx:
        tx.orders.transition(sent, sent.to(OrderState.CANCELED, at_ms=4), source="poll")
    with store.read() as tx:
        assert tx.orders.get(pending.client_id) == matched


def test_a_caught_refusal_still_rolls_the_transaction_back(store: Store) -> None:
    pending = Order(intent=intent(), updated_at_ms=1_000)
    with store.transaction() as tx:
        tx.orders.create_intent(pending.intent)
    sent = pending.to(OrderState.SENT, at_ms=2)
    with pytest.raises(StaleOrder), store.transaction() as tx:
        tx.orders.create_intent(intent("f2"))
        with contextlib.suppress(StaleOrder):  # swallowed: it must still not commit half
            tx.orders.transition(sent, sent.to(OrderState.LIVE, at_ms=3), source="poll")
    with store.read() as tx:
        assert tx.orders.by_intent(ACCOUNT, "copy:f2") is None


def test_reconciliation_finds_orders_by_state_oldest_first(store: Store) -> None:
    with store.transaction() as tx:
        for number, fill in enumerate(["f3", "f1", "f2"]):
            tx.orders.create_intent(intent(fill, at_ms=1_000 + number))
        first = Order(intent=intent("f1", at_ms=1_001), updated_at_ms=1_001)
        tx.orders.transition(first, first.to(OrderState.UNKNOWN, at_ms=5), source="timeout")
    with store.read() as tx:
        todo = tx.orders.in_states(ACCOUNT, [OrderState.PENDING, OrderState.UNKNOWN])
        assert [order.intent.fill_id for order in todo] == ["f3", "f1", "f2"]
        assert [order.intent.fill_id for order in tx.orders.recent(ACCOUNT, limit=2)] == [
            "f2",
            "f1",
        ]

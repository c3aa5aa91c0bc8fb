"""Small, valid domain objects for operator-surface tests (one place, so tests read short)."""

from __future__ import annotations

from decimal import Decimal

from polytail.domain.decisions import Action, Decision, ReasonCode
from polytail.domain.fills import FeedSource, LeaderFill, Side
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
from polytail.domain.orders import Order, OrderIntent, OrderState, OrderType

ACCOUNT = AccountId("default")
ALICE = Address("0x" + "a1" * 20)
BOB = Address("0x" + "b2" * 20)
CONDITION = ConditionId("0x" + "c" * 64)
YES = TokenId("1111")
NO = TokenId("2222")
T0 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC


def fill(
    n: int = 1,
    *,
    leader: Address = ALICE,
    side: Side = Side.BUY,
    source: FeedSource = FeedSource.STREAM,
    price: str = "0.52",
    size: str = "40",
) -> LeaderFill:
    shares = Shares.parse(size)
    return LeaderFill(
        fill_id=FillId(f"f{n:031d}"),
        wallet=leader,
        side=side,
        token_id=YES,
        condition_id=CONDITION,
        outcome_index=0,
        price=Decimal(price),
        size=shares,
        usdc=Usdc.parse(Decimal(price) * Decimal(size)),
        timestamp=T0 // 1000,
        tx_hash=None,
        source=source,
        outcome="Yes",
        slug="will-it-rain-tomorrow",
    )


def copy_decision(leader_fill: LeaderFill, *, reasons: tuple[ReasonCode, ...] = ()) -> Decision:
    return Decision(
        account=ACCOUNT,
        intent_key=copy_intent_key(leader_fill.fill_id),
        action=Action.COPY,
        reasons=(ReasonCode.COPIED, *reasons),
        decided_at_ms=T0 + 1000,
        fill_id=leader_fill.fill_id,
        leader=leader_fill.wallet,
        token_id=leader_fill.token_id,
        side=leader_fill.side,
        size=Shares.parse("20"),
        limit_price=Price.parse("0.53"),
        notional=Usdc.parse("10.6"),
        order_type=OrderType.FOK,
        inputs={"leader_price": str(leader_fill.price)},
    )


def skip_decision(leader_fill: LeaderFill, reason: ReasonCode, detail: str = "") -> Decision:
    return Decision(
        account=ACCOUNT,
        intent_key=copy_intent_key(leader_fill.fill_id),
        action=Action.SKIP,
        reasons=(reason,),
        decided_at_ms=T0 + 1000,
        fill_id=leader_fill.fill_id,
        leader=leader_fill.wallet,
        token_id=leader_fill.token_id,
        side=leader_fill.side,
        detail=detail,
        inputs={"price": str(leader_fill.price)},
    )


def order_for(decision: Decision, *, condition: ConditionId = CONDITION) -> Order:
    assert decision.side is not None and decision.limit_price is not None
    assert decision.token_id is not None
    intent = OrderIntent(
        client_id=client_order_id(decision.account, decision.intent_key),
        account=decision.account,
        intent_key=decision.intent_key,
        token_id=decision.token_id,
        condition_id=condition,
        side=decision.side,
        order_type=decision.order_type or OrderType.FOK,
        limit_price=decision.limit_price,
        size=decision.size,
        max_spend=decision.notional,
        created_at_ms=decision.decided_at_ms,
        fill_id=decision.fill_id,
        leader=decision.leader,
    )
    return Order(intent, updated_at_ms=decision.decided_at_ms)


def matched(order: Order, *, notional: str = "10.4", at_ms: int = T0 + 2000) -> Order:
    sent = order.to(OrderState.SENT, at_ms=at_ms)
    return sent.to(
        OrderState.MATCHED,
        at_ms=at_ms,
        filled=order.intent.size,
        filled_notional=Usdc.parse(notional),
    )

"""Decisions: "why didn't it copy?" always has an answer, with reasons and inputs."""

from __future__ import annotations

from polytail.domain.decisions import Action, Decision, ReasonCode
from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, Address, FillId, TokenId
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.orders import OrderType
from polytail.store import Store

ACCOUNT = AccountId("default")


def skip(fill: str, reason: ReasonCode, at_ms: int, **inputs: str) -> Decision:
    return Decision(
        account=ACCOUNT,
        intent_key=f"copy:{fill}",
        action=Action.SKIP,
        reasons=(reason,),
        decided_at_ms=at_ms,
        fill_id=FillId(fill),
        leader=Address("0x" + "a" * 40),
        detail=f"{reason.value} for {fill}",
        inputs=inputs,
    )


def copy(fill: str, at_ms: int) -> Decision:
    return Decision(
        account=ACCOUNT,
        intent_key=f"copy:{fill}",
        action=Action.COPY,
        reasons=(ReasonCode.RISK_MAX_ORDER, ReasonCode.COPIED),
        decided_at_ms=at_ms,
        fill_id=FillId(fill),
        token_id=TokenId("101"),
        side=Side.BUY,
        size=Shares.parse("50"),
        limit_price=Price.parse("0.51"),
        notional=Usdc.parse("25.5"),
        order_type=OrderType.FOK,
        inputs={"leader_usdc": "400", "best_ask": "0.5"},
    )


def test_why_returns_every_decision_about_a_fill_in_order(store: Store) -> None:
    first = skip("f1", ReasonCode.BOOK_UNAVAILABLE, 1_000, book="timeout after 2s")
    retry = copy("f1", 2_000)
    with store.transaction() as tx:
        tx.decisions.record(first)
        tx.decisions.record(skip("f2", ReasonCode.FILTER_PRICE_BAND, 1_500, price="0.99"))
        tx.decisions.record(retry)
    with store.read() as tx:
        assert tx.decisions.why(ACCOUNT, FillId("f1")) == [first, retry]
        assert tx.decisions.why(AccountId("other"), FillId("f1")) == []


def test_recent_decisions_can_be_filtered_to_skips(store: Store) -> None:
    with store.transaction() as tx:
        for number in range(5):
            tx.decisions.record(skip(f"s{number}", ReasonCode.FILTER_SPREAD, 100 + number))
        tx.decisions.record(copy("c", 50))
    with store.read() as tx:
        skips = tx.decisions.recent(ACCOUNT, action=Action.SKIP, limit=3)
        assert [d.fill_id for d in skips] == ["s4", "s3", "s2"]
        assert skips[0].primary_reason is ReasonCode.FILTER_SPREAD
        assert tx.decisions.recent(ACCOUNT, action=Action.COPY)[0].notional == Usdc.parse("25.5")

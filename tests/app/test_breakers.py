"""Breakers become events once when they trip and once when copying resumes."""

from __future__ import annotations

from polytail.app.breakers import BreakerWatch
from polytail.domain.decisions import Action, Decision, ReasonCode
from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, Address, FillId
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.orders import OrderType
from polytail.engine.events import BreakerScope, BreakerTripped, DecisionMade, Event, EventBus

ALICE, BOB = Address("0x" + "aa" * 20), Address("0x" + "bb" * 20)


def decision(reason: ReasonCode, leader: Address, at: int, side: Side = Side.BUY) -> Decision:
    copy = reason is ReasonCode.COPIED
    return Decision(
        account=AccountId("default"),
        intent_key=f"copy:{at}",
        action=Action.COPY if copy else Action.SKIP,
        reasons=(reason,),
        decided_at_ms=at,
        fill_id=FillId(f"f{at}"),
        leader=leader,
        side=side,
        size=Shares.parse("10") if copy else Shares(0),
        limit_price=Price.parse("0.5") if copy else None,
        notional=Usdc.parse("5") if copy else Usdc(0),
        order_type=OrderType.FOK if copy else None,
        detail="lost 100 today" if not copy else "",
    )


def test_a_breaker_trips_once_and_clears_when_a_copy_gets_through() -> None:
    bus = EventBus()
    seen: list[Event] = []
    bus.listen(seen.append)
    watch = BreakerWatch(bus)
    bus.listen(watch.on_event)
    for at in (1, 2, 3):
        bus.publish(DecisionMade(decision(ReasonCode.RISK_DAILY_LOSS, ALICE, at)))
    bus.publish(DecisionMade(decision(ReasonCode.RISK_LEADER_DRAWDOWN, BOB, 4)))
    trips = [e for e in seen if isinstance(e, BreakerTripped)]
    assert [(t.scope, t.reason, t.leader, t.cleared) for t in trips] == [
        (BreakerScope.GLOBAL, ReasonCode.RISK_DAILY_LOSS, None, False),
        (BreakerScope.LEADER, ReasonCode.RISK_LEADER_DRAWDOWN, BOB, False),
    ]
    assert [v.reason for v in watch.tripped()] == [
        ReasonCode.RISK_DAILY_LOSS,
        ReasonCode.RISK_LEADER_DRAWDOWN,
    ]
    # an exit passes breakers anyway: it clears nothing
    bus.publish(DecisionMade(decision(ReasonCode.COPIED, ALICE, 5, Side.SELL)))
    assert len(watch.tripped()) == 2
    # a new position copied for alice: the global breaker is gone, bob's stays
    bus.publish(DecisionMade(decision(ReasonCode.COPIED, ALICE, 6)))
    cleared = [e for e in seen if isinstance(e, BreakerTripped) and e.cleared]
    assert [(c.reason, c.at_ms) for c in cleared] == [(ReasonCode.RISK_DAILY_LOSS, 6)]
    assert [v.leader for v in watch.tripped()] == [BOB]

"""Risk breakers as events: tripped when the policy first skips because of one, cleared
when copying resumes.

The policy checks its breakers (daily loss, drawdown, cool-down; globally and per leader)
on every decision and records the reason in the skip; it keeps no "tripped" flag of its
own, because the state is a pure function of the portfolio. Operators want the moment a
breaker trips and the moment it clears, once each: this listener turns the stream of
decisions into `BreakerTripped` events (notifications, metrics) and keeps the list of
breakers currently tripped (`polytail status`, the dashboard).
"""

from __future__ import annotations

from typing import Final

from polytail.app.services import BreakerView
from polytail.domain.decisions import Action, ReasonCode
from polytail.domain.fills import Side
from polytail.domain.ids import Address
from polytail.engine.events import BreakerScope, BreakerTripped, DecisionMade, Event, EventBus

GLOBAL_BREAKERS: Final = frozenset({ReasonCode.RISK_DAILY_LOSS, ReasonCode.RISK_DRAWDOWN})
LEADER_BREAKERS: Final = frozenset(
    {ReasonCode.RISK_LEADER_DAILY_LOSS, ReasonCode.RISK_LEADER_DRAWDOWN, ReasonCode.RISK_COOLDOWN}
)
Key = tuple[BreakerScope, ReasonCode, Address | None]


class BreakerWatch:
    """A bus listener (`bus.listen(watch.on_event)`) that publishes on the same bus."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._tripped: dict[Key, BreakerView] = {}

    def on_event(self, event: Event) -> None:
        if type(event) is not DecisionMade:
            return
        decision = event.decision
        at_ms = decision.decided_at_ms
        if decision.action is Action.SKIP:
            reason = decision.primary_reason
            if reason in GLOBAL_BREAKERS:
                self._trip((BreakerScope.GLOBAL, reason, None), decision.detail, at_ms)
            elif reason in LEADER_BREAKERS and decision.leader is not None:
                self._trip((BreakerScope.LEADER, reason, decision.leader), decision.detail, at_ms)
        elif decision.side is Side.BUY:  # a new position passed every breaker it is under
            for key in list(self._tripped):
                scope, _, leader = key
                if scope is BreakerScope.GLOBAL or leader == decision.leader:
                    self._clear(key, at_ms)

    def tripped(self) -> tuple[BreakerView, ...]:
        return tuple(sorted(self._tripped.values(), key=lambda view: view.tripped_at_ms))

    def _trip(self, key: Key, detail: str, at_ms: int) -> None:
        if key in self._tripped:
            return
        scope, reason, leader = key
        self._tripped[key] = BreakerView(scope, reason, detail, at_ms, leader)
        self.bus.publish(BreakerTripped(scope, reason, detail, at_ms, leader))

    def _clear(self, key: Key, at_ms: int) -> None:
        view = self._tripped.pop(key)
        self.bus.publish(
            BreakerTripped(view.scope, view.reason, "copying again", at_ms, view.leader, True)
        )

"""From engine events to notices: what is worth telling an operator, and in what words.

A copy is announced once, when its order is finished (filled, partly filled, not filled,
rejected), with the decision that made it and the leader fill it copied, so the message
says what actually happened rather than what was intended. To word it, the builder keeps
a bounded memory of recent leader fills and copy decisions.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from polytail.app.services import DigestView
from polytail.config.schema import Mode
from polytail.domain.decisions import Action, Decision
from polytail.domain.fills import LeaderFill
from polytail.domain.ids import AccountId, Address, FillId
from polytail.domain.money import average_price
from polytail.domain.orders import Order, OrderState
from polytail.engine.events import (
    BreakerTripped,
    DecisionMade,
    EngineError,
    Event,
    FillDetected,
    KillSwitchChanged,
    LeaderPaused,
    MarketResolved,
    OrderUpdated,
    Redeemed,
)

DEFAULT_MEMORY: Final = 10_000
_PRICE_PLACES: Final = Decimal("0.0001")


class NoticeKind(StrEnum):
    """What a notice is about; webhooks subscribe by these names (`notify.webhooks.events`)."""

    COPY = "copy"
    SKIP = "skip"
    ERROR = "error"
    BREAKER = "breaker"  # risk breakers, the kill switch, leaders paused or resumed
    RESOLUTION = "resolution"  # markets resolved, positions redeemed
    DIGEST = "digest"


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NoticeKind
    template: str
    context: Mapping[str, Any]
    at_ms: int


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered notice (or a command reply, `kind=None`) as channels send it."""

    text: str
    mode: Mode
    account: AccountId
    at_ms: int
    kind: NoticeKind | None = None
    data: Mapping[str, Any] = field(default_factory=dict)  # JSON-able, for webhooks

    @property
    def is_reply(self) -> bool:
        return self.kind is None


class _Bounded(OrderedDict[str, Any]):
    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity

    def remember(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.capacity:
            self.popitem(last=False)


class NoticeBuilder:
    def __init__(
        self,
        *,
        labels: Mapping[Address, str],
        notify_skips: bool,
        memory: int = DEFAULT_MEMORY,
    ) -> None:
        self.labels = dict(labels)
        self.notify_skips = notify_skips
        self._fills = _Bounded(memory)
        self._copies = _Bounded(memory)

    def label(self, leader: Address | None) -> str:
        if leader is None:
            return "no leader"
        return self.labels.get(leader) or f"{leader[:6]}…{leader[-4:]}"

    def on_event(self, event: Event) -> Notice | None:
        match event:
            case FillDetected(fill=fill):
                self._fills.remember(fill.fill_id, fill)
            case DecisionMade(decision=decision):
                return self._decision(decision)
            case OrderUpdated(order=order) if order.state.is_terminal:
                return self._order_done(order)
            case EngineError():
                return Notice(NoticeKind.ERROR, "error.j2", {"error": event}, event.at_ms)
            case BreakerTripped():
                context = {
                    "breaker": event,
                    "leader": self.label(event.leader) if event.leader else "",
                }
                return Notice(NoticeKind.BREAKER, "breaker.j2", context, event.at_ms)
            case KillSwitchChanged():
                return Notice(NoticeKind.BREAKER, "kill_switch.j2", {"change": event}, event.at_ms)
            case LeaderPaused():
                context = {"change": event, "leader": self.label(event.leader)}
                return Notice(NoticeKind.BREAKER, "leader_paused.j2", context, event.at_ms)
            case MarketResolved():
                context = {"event": event, "winner": event.resolution.winning_index}
                return Notice(NoticeKind.RESOLUTION, "resolved.j2", context, event.at_ms)
            case Redeemed():
                return Notice(NoticeKind.RESOLUTION, "redeemed.j2", {"event": event}, event.at_ms)
        return None

    def digest(self, digest: DigestView, at_ms: int) -> Notice:
        return Notice(NoticeKind.DIGEST, "digest.j2", {"digest": digest}, at_ms)

    # --- copies and skips -------------------------------------------------------------
    def _fill(self, fill_id: FillId | None) -> LeaderFill | None:
        return self._fills.get(fill_id) if fill_id is not None else None

    def _market(self, fill: LeaderFill | None, token: str | None) -> tuple[str, str]:
        if fill is not None:
            return fill.slug or fill.event_slug or fill.token_id, fill.outcome
        return token or "unknown market", ""

    def _decision(self, decision: Decision) -> Notice | None:
        if decision.action is Action.COPY:
            self._copies.remember(decision.intent_key, decision)
            return None
        if not self.notify_skips:
            return None
        fill = self._fill(decision.fill_id)
        market, outcome = self._market(fill, decision.token_id)
        context = {
            "decision": decision,
            "leader": self.label(decision.leader),
            "market": market,
            "outcome": outcome,
            "fill": fill,
        }
        return Notice(NoticeKind.SKIP, "skip.j2", context, decision.decided_at_ms)

    def _order_done(self, order: Order) -> Notice:
        intent = order.intent
        decision: Decision | None = self._copies.pop(intent.intent_key, None)
        fill = self._fill(intent.fill_id)
        market, outcome = self._market(fill, intent.token_id)
        if order.state is OrderState.REJECTED:
            result = "rejected"
        elif order.filled.units == 0:
            result = "not filled"
        elif order.filled < intent.size and order.state is not OrderState.MATCHED:
            result = "partially filled"
        else:
            result = "filled"
        average = (
            average_price(order.filled_notional, order.filled).quantize(_PRICE_PLACES)
            if order.filled.units
            else None
        )
        context = {
            "order": order,
            "decision": decision,
            "leader": self.label(intent.leader),
            "market": market,
            "outcome": outcome,
            "result": result,
            "average_price": average,
        }
        return Notice(NoticeKind.COPY, "copy.j2", context, order.updated_at_ms)

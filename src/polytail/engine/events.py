"""What the engine tells the rest of the world, and the bus that carries it.

Every step of a fill's path emits an event; metrics, logs, the dashboard, notifications and
the live terminal view subscribe. Producers never know who listens, so adding a consumer
never touches the hot path, and a slow consumer (a Telegram call) can never stall it:
synchronous subscribers must be cheap (counters), everything else reads from its own
bounded queue and drops the oldest events rather than block the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

import structlog

from polytail.domain.decisions import Decision, ReasonCode
from polytail.domain.fills import FeedSource, LeaderFill, Side
from polytail.domain.ids import AccountId, Address, ClientOrderId, ConditionId, TokenId
from polytail.domain.market import Resolution
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.orders import Order, OrderState

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class FillDetected:
    """A leader fill passed the merger: its first sighting, by any feed."""

    fill: LeaderFill
    at_ms: int
    detection_ms: int | None  # venue timestamp -> merged, when the venue time is precise


@dataclass(frozen=True, slots=True)
class FillSighted:
    """Any feed's sighting, including duplicates the merger absorbed (for feed metrics)."""

    source: FeedSource
    duplicate: bool
    at_ms: int


@dataclass(frozen=True, slots=True)
class DecisionMade:
    decision: Decision


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    order: Order
    previous: OrderState | None  # None when the order was just created (PENDING)


@dataclass(frozen=True, slots=True)
class TradeBooked:
    """A venue fill of one of our orders, booked once into the ledger."""

    account: AccountId
    client_id: ClientOrderId
    trade_id: str
    token_id: TokenId
    side: Side
    shares: Shares
    price: Price
    notional: Usdc
    fee: Usdc
    leader: Address | None
    at_ms: int


@dataclass(frozen=True, slots=True)
class FillSettling:
    """A venue fill of one of our orders that is not final yet (MATCHED, MINED, RETRYING)
    or failed (FAILED: reversed by the venue). Only final fills are booked (`TradeBooked`)."""

    account: AccountId
    client_id: ClientOrderId
    trade_id: str
    status: str
    shares: Shares
    at_ms: int


@dataclass(frozen=True, slots=True)
class MarketResolved:
    condition_id: ConditionId
    resolution: Resolution
    question: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class Redeemed:
    account: AccountId
    condition_id: ConditionId
    payout: Usdc
    realized_pnl: Usdc
    at_ms: int


class BreakerScope(StrEnum):
    GLOBAL = "global"
    LEADER = "leader"


@dataclass(frozen=True, slots=True)
class BreakerTripped:
    scope: BreakerScope
    reason: ReasonCode
    detail: str
    at_ms: int
    leader: Address | None = None
    cleared: bool = False  # True when the breaker resets (e.g. a new UTC day)


class ComponentState(StrEnum):
    STARTING = "starting"
    READY = "ready"
    DEGRADED = "degraded"  # working, but e.g. a stream is stale and polling covers
    DOWN = "down"


class Component:
    """The names components report their health under (`ComponentStatus.component`).

    Readiness (`polytail.app.health`) waits for every enabled feed, the broker and startup
    reconciliation by these names, so producers must use them.
    """

    BROKER: Final = "broker"
    RECONCILIATION: Final = "reconciliation"
    STORE: Final = "store"
    # Named in `EngineError`s only (readiness does not wait for them).
    PIPELINE: Final = "pipeline"
    EXECUTION: Final = "execution"
    HOUSEKEEPING: Final = "housekeeping"
    REDEMPTION: Final = "redemption"

    @staticmethod
    def feed(source: FeedSource | str) -> str:
        """`feed.stream`, `feed.poll`, `feed.chain`, ..."""
        return f"feed.{FeedSource(source).value}"


@dataclass(frozen=True, slots=True)
class ComponentStatus:
    """Health of one component: a feed, the broker, reconciliation, the store."""

    component: str
    state: ComponentState
    detail: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class EngineError:
    """Something failed that an operator should know about; the engine went on."""

    component: str
    message: str
    at_ms: int
    fatal: bool = False


@dataclass(frozen=True, slots=True)
class ConfigReloaded:
    changed_keys: tuple[str, ...]
    at_ms: int


@dataclass(frozen=True, slots=True)
class KillSwitchChanged:
    """The kill switch was engaged or released (file, CLI, signal, dashboard, Telegram)."""

    engaged: bool
    source: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class LeaderPaused:
    """An operator paused (or resumed) copying one leader."""

    leader: Address
    paused: bool
    source: str
    at_ms: int


Event = (
    FillDetected
    | FillSighted
    | DecisionMade
    | OrderUpdated
    | TradeBooked
    | FillSettling
    | MarketResolved
    | Redeemed
    | BreakerTripped
    | ComponentStatus
    | EngineError
    | ConfigReloaded
    | KillSwitchChanged
    | LeaderPaused
)

Listener = Callable[[Event], None]
DEFAULT_QUEUE_SIZE: Final = 10_000


@dataclass
class Subscription:
    """A bounded queue of events for one asynchronous consumer."""

    queue: asyncio.Queue[Event]
    dropped: int = 0
    name: str = ""

    async def get(self) -> Event:
        return await self.queue.get()


@dataclass
class EventBus:
    """Fan-out of engine events to synchronous listeners and bounded async queues."""

    _listeners: list[Listener] = field(default_factory=list)
    _subscriptions: list[Subscription] = field(default_factory=list)

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` synchronously for every event (keep it cheap). Returns an
        unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def subscribe(self, name: str, maxsize: int = DEFAULT_QUEUE_SIZE) -> Subscription:
        """A queue receiving every event; when full, the oldest event is dropped."""
        subscription = Subscription(asyncio.Queue(maxsize=maxsize), name=name)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def publish(self, event: Event) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken consumer must not break the engine
                log.exception("event listener failed", listener=repr(listener))
        for subscription in self._subscriptions:
            queue = subscription.queue
            if queue.full():
                queue.get_nowait()
                queue.task_done()  # keeps `queue.join()` usable for draining consumers
                subscription.dropped += 1
            queue.put_nowait(event)

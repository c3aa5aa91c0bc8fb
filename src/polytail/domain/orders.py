"""Order intents and the order state machine.

An intent is what we decided to send; an order is what became of it. The intent is
persisted as PENDING with a deterministic client id *before* anything leaves the process,
so after a crash the engine can ask the venue about it instead of sending it again.

The state machine allows only the transitions the venue can produce. An illegal
transition raises `IllegalTransition` instead of being recorded, because a silently
"un-cancelled" or "un-filled" order is how ledgers drift from the venue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, Address, ClientOrderId, ConditionId, FillId, TokenId
from polytail.domain.money import Price, Shares, Usdc


class OrderType(StrEnum):
    GTC = "GTC"  # rests until filled or cancelled
    GTD = "GTD"  # rests until its expiry
    FOK = "FOK"  # fill completely now, or not at all
    FAK = "FAK"  # fill what is available now, cancel the rest

    @property
    def is_marketable(self) -> bool:
        """FOK and FAK are the venue's "market" orders: they never rest."""
        return self in _MARKETABLE


# A set built once: looking enum members up on the class costs more than the check, and
# the policy asks on every decision.
_MARKETABLE: Final = frozenset({OrderType.FOK, OrderType.FAK})


class OrderState(StrEnum):
    PENDING = "PENDING"  # written locally, not yet handed to the venue
    SENT = "SENT"  # handed to the venue, no reply yet
    LIVE = "LIVE"  # resting on the book, nothing filled
    PARTIAL = "PARTIAL"  # some filled; resting or being cancelled
    MATCHED = "MATCHED"  # completely filled
    CANCELED = "CANCELED"  # ended without (further) fills; may carry a partial fill
    REJECTED = "REJECTED"  # the venue refused it; nothing filled
    UNKNOWN = "UNKNOWN"  # we lost track (timeout, crash); reconciliation decides

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def is_open(self) -> bool:
        """Could still fill (counts against open-order limits, blocks a resend)."""
        return not self.is_terminal


TERMINAL_STATES: Final = frozenset({OrderState.MATCHED, OrderState.CANCELED, OrderState.REJECTED})

TRANSITIONS: Final[dict[OrderState, frozenset[OrderState]]] = {
    OrderState.PENDING: frozenset(
        # REJECTED: refused before leaving (validation); CANCELED: found unsent after a
        # crash and deliberately not sent; UNKNOWN: the send was interrupted.
        {OrderState.SENT, OrderState.REJECTED, OrderState.CANCELED, OrderState.UNKNOWN}
    ),
    OrderState.SENT: frozenset(
        {
            OrderState.LIVE,
            OrderState.PARTIAL,
            OrderState.MATCHED,
            OrderState.CANCELED,  # a FAK/FOK that matched nothing
            OrderState.REJECTED,
            OrderState.UNKNOWN,
        }
    ),
    OrderState.LIVE: frozenset(
        {OrderState.PARTIAL, OrderState.MATCHED, OrderState.CANCELED, OrderState.UNKNOWN}
    ),
    OrderState.PARTIAL: frozenset(
        {OrderState.PARTIAL, OrderState.MATCHED, OrderState.CANCELED, OrderState.UNKNOWN}
    ),
    OrderState.UNKNOWN: frozenset(
        {
            OrderState.LIVE,
            OrderState.PARTIAL,
            OrderState.MATCHED,
            OrderState.CANCELED,
            OrderState.REJECTED,
            OrderState.UNKNOWN,
        }
    ),
    OrderState.MATCHED: frozenset(),
    OrderState.CANCELED: frozenset(),
    OrderState.REJECTED: frozenset(),
}


class IllegalTransition(RuntimeError):
    def __init__(self, client_id: str, current: OrderState, target: OrderState) -> None:
        super().__init__(f"order {client_id}: illegal transition {current} -> {target}")
        self.current = current
        self.target = target


def check_transition(client_id: str, current: OrderState, target: OrderState) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(client_id, current, target)


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What we decided to send, immutable once written.

    For a BUY, `size` is the share quantity wanted at `limit_price` and `max_spend` the
    notional ceiling in pUSD (fees excluded): a fill at better prices may bring more
    shares, never more spend. For a SELL, `size` is the shares to sell (a hard ceiling)
    and `limit_price` the lowest acceptable price.
    """

    client_id: ClientOrderId
    account: AccountId
    intent_key: str
    token_id: TokenId
    condition_id: ConditionId
    side: Side
    order_type: OrderType
    limit_price: Price
    size: Shares
    max_spend: Usdc
    created_at_ms: int
    fill_id: FillId | None = None
    leader: Address | None = None
    expires_at: int | None = None  # Unix seconds, GTD/GTC time limit
    post_only: bool = False

    def __post_init__(self) -> None:
        if self.size.units <= 0:
            raise ValueError(f"order {self.client_id}: size must be positive")
        if self.post_only and self.order_type.is_marketable:
            raise ValueError(f"order {self.client_id}: post-only needs GTC or GTD")
        if self.order_type is OrderType.GTD and self.expires_at is None:
            raise ValueError(f"order {self.client_id}: GTD needs an expiry")


@dataclass(frozen=True, slots=True)
class Order:
    """The life of one intent at the venue. Each change returns a new `Order`."""

    intent: OrderIntent
    state: OrderState = OrderState.PENDING
    venue_order_id: str | None = None
    filled: Shares = Shares(0)
    filled_notional: Usdc = Usdc(0)
    fees: Usdc = Usdc(0)
    error: str = ""
    updated_at_ms: int = 0

    @property
    def client_id(self) -> ClientOrderId:
        return self.intent.client_id

    @property
    def remaining(self) -> Shares:
        return self.intent.size - self.filled

    def to(self, state: OrderState, *, at_ms: int, **changes: object) -> Order:
        """Move to `state` (validated) with optional field changes such as `filled`."""
        check_transition(self.intent.client_id, self.state, state)
        updated = replace(self, state=state, updated_at_ms=at_ms, **changes)  # type: ignore[arg-type]
        intent = updated.intent
        if intent.side is Side.SELL and updated.filled > intent.size:
            raise ValueError(
                f"order {self.client_id}: sold {updated.filled}, more than its size {intent.size}"
            )
        if intent.side is Side.BUY and updated.filled_notional > intent.max_spend:
            raise ValueError(
                f"order {self.client_id}: spent {updated.filled_notional}, "
                f"more than its ceiling {intent.max_spend}"
            )
        if updated.filled < self.filled:
            raise ValueError(f"order {self.client_id}: filled quantity cannot decrease")
        return updated

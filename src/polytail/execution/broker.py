"""The broker interface: what the order manager needs from whoever fills our orders.

Two brokers implement it, live (the venue, through the official SDK) and paper (fills
by walking the current real book). The order manager, reconciliation and the engine are
written against this protocol only, so paper, backtest and live runs share every line
above it; `tests/execution/test_broker_contract.py` holds both to the same contract.

Errors are the venue layer's typed errors (`polytail.venue.errors`) for both brokers:
the paper broker refuses an order exactly as the venue would (`InsufficientBalance`,
`BelowMinimumSize`, `NotFilled`, ...), so the order manager has one error policy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from polytail.domain.fills import Side
from polytail.domain.ids import TokenId
from polytail.domain.ledger import Holding
from polytail.domain.market import Market
from polytail.domain.money import SCALE, Price, Rounding, Shares, Usdc, divide
from polytail.domain.orders import OrderIntent, OrderState


@dataclass(frozen=True, slots=True)
class TradeReport:
    """One fill of one of our orders, with what changed hands and the fee.

    `trade_id` is the ledger's idempotency key: the venue's trade id when we took
    liquidity, `<trade id>:<order id>` when our resting order was the maker (one trade
    can fill several makers), a deterministic id on paper. `price` is the average price
    of the fill (the notional over the shares), `notional` excludes the fee.
    """

    trade_id: str
    venue_order_id: str
    token_id: TokenId
    side: Side
    shares: Shares
    notional: Usdc
    fee: Usdc
    at_ms: int

    @property
    def price(self) -> Price:
        return Price(divide(self.notional.units * SCALE, self.shares.units, Rounding.HALF_EVEN))


@dataclass(frozen=True, slots=True)
class OrderReport:
    """What the venue says about one order now.

    `state` is LIVE (resting, nothing filled), PARTIAL (resting, partly filled), MATCHED
    or CANCELED (ended; may carry a partial fill). `filled` is the venue's total matched
    size; `trades` the *final* fills it could describe (CONFIRMED on a live venue: a fill
    is booked only once it can no longer be reversed). `pending` counts shares in trades
    still settling (MATCHED, MINED, RETRYING), `failed` shares in trades that FAILED and
    were reversed. The order manager keeps the order open until the fills booked cover
    `filled - failed`, so a settling fill is booked when it becomes final, and a failed
    one never.
    """

    venue_order_id: str
    state: OrderState
    filled: Shares
    trades: tuple[TradeReport, ...] = ()
    pending: Shares = Shares(0)
    failed: Shares = Shares(0)


@dataclass(frozen=True, slots=True)
class TradeSettling:
    """A fill of one of our orders that is not final: MATCHED, MINED, RETRYING, or FAILED
    (reversed by the venue; it will never be booked)."""

    trade_id: str
    venue_order_id: str
    status: str
    shares: Shares


@dataclass(frozen=True, slots=True)
class OrderNotice:
    """The venue says one of our orders changed (user-channel `order` event): look it up."""

    venue_order_id: str
    kind: str  # PLACEMENT, UPDATE, CANCELLATION


@dataclass(frozen=True, slots=True)
class StreamGap:
    """The broker's event stream was interrupted and is back: events may have been missed,
    so every open order is looked up (polling is the safety net)."""

    detail: str


BrokerReport = TradeReport | TradeSettling | OrderNotice | StreamGap


@dataclass(frozen=True, slots=True)
class Prepared:
    """A signed (or, on paper, validated) order, with the id the venue will know it by.

    The order manager records `venue_order_id` before `submit`, so an order whose reply
    was lost in a crash can still be looked up by id.
    """

    intent: OrderIntent
    venue_order_id: str
    payload: object = None


@dataclass(frozen=True, slots=True)
class RedeemReport:
    """One redemption call: what *this call* made the venue pay, and what was held before it.

    `payout` is the value of the shares this call burned (0 when nothing was left to
    redeem: the chain pays each share once). `held_before` is the wallet's balance of each
    claimed outcome when the call started: shares the ledger still counts but the wallet
    no longer held were redeemed earlier (a run that crashed after sending), which is how
    the engine books an interrupted redemption once without sending blindly.
    """

    payout: Usdc
    report_id: str
    outcome_index: int | None = None
    tokens: tuple[TokenId, ...] = field(default_factory=tuple)
    held_before: Mapping[TokenId, Shares] = field(default_factory=dict)


class Broker(Protocol):
    """Fills our orders. Every method may raise a `polytail.venue.errors.VenueError`."""

    name: str

    async def prepare(self, intent: OrderIntent, market: Market) -> Prepared:
        """Sign or validate; nothing leaves the process."""
        ...

    async def submit(self, prepared: Prepared, market: Market) -> OrderReport:
        """Send the order; the reply with the fills made at placement."""
        ...

    async def cancel(self, venue_order_id: str) -> bool:
        """Cancel a resting order; False when it was no longer open."""
        ...

    async def lookup(self, venue_order_id: str, market: Market) -> OrderReport | None:
        """The order as the venue knows it, or None when the venue never took it."""
        ...

    async def trades_since(self, after_s: int) -> list[TradeReport]:
        """Fills of the account's orders matched at or after `after_s` (Unix seconds)."""
        ...

    async def open_orders(self) -> list[str]:
        """Venue ids of the account's resting orders."""
        ...

    async def cash(self) -> Usdc:
        """The account's pUSD balance as the venue sees it."""
        ...

    async def redeem(self, market: Market, holdings: Sequence[Holding]) -> RedeemReport:
        """Turn resolved claims of `market` into pUSD."""
        ...

    def reports(self) -> AsyncIterator[BrokerReport]:
        """What happens to our orders as it happens: final fills, settling fills, order
        changes and stream gaps (live: the user channel; paper: book crossings)."""
        ...

    async def close(self) -> None: ...

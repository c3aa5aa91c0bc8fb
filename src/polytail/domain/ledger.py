"""Ledger records: the events that move an account's money and the state they leave.

The ledger (`polytail.portfolio.ledger`) applies these events; the store persists them and
the state. Both need the same types, and the two are siblings that may not import each
other, so the records live here and the rules live in portfolio.

Every event carries an idempotency key (`event_key`), so booking the same event twice is a
no-op in memory and a unique-key conflict in the database:

- `CashMovement`: `cash:<key>`, the transfer's transaction hash or a name like
  `paper:start`;
- `TradeFill`: `trade:<trade id>`, the venue's trade id (live) or a deterministic paper id;
- `MarketResolved`: `resolution:<condition>`; a market resolves once, and a different
  payout for the same market is an error;
- `Redemption`: each position (token) it closes. A claim pays once, whatever report id
  the venue uses, because a redeemed position cannot be redeemed again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Final

from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, Address, ClientOrderId, ConditionId, TokenId
from polytail.domain.market import Resolution
from polytail.domain.money import Price, Rounding, Shares, Usdc
from polytail.domain.positions import Position

MS_PER_DAY: Final = 86_400_000


def utc_day(at_ms: int) -> int:
    """Days since the Unix epoch (UTC) of a millisecond timestamp: the key of daily PnL."""
    return at_ms // MS_PER_DAY


class CashKind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


@dataclass(frozen=True, slots=True)
class CashMovement:
    """pUSD entering or leaving the account (a deposit, a withdrawal, the paper bankroll)."""

    account: AccountId
    key: str
    kind: CashKind
    amount: Usdc
    at_ms: int
    note: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a cash movement needs a key (e.g. its transaction hash)")
        if not self.amount.is_positive:
            raise ValueError(f"cash movement {self.key}: amount must be positive")

    @property
    def event_key(self) -> str:
        return f"cash:{self.key}"


@dataclass(frozen=True, slots=True)
class TradeFill:
    """One fill of one of our orders, as the venue (or the paper broker) reported it.

    `notional` is what changed hands before fees (paid for a BUY, received for a SELL) and
    `fee` what the venue charged on top; both are booked exactly as reported. `leader` is
    the lot the shares belong to (the copied leader, or `UNATTRIBUTED`).
    """

    account: AccountId
    trade_id: str
    side: Side
    token_id: TokenId
    condition_id: ConditionId
    outcome_index: int
    leader: Address
    shares: Shares
    price: Price
    notional: Usdc
    fee: Usdc
    at_ms: int
    client_id: ClientOrderId | None = None
    venue_order_id: str | None = None

    def __post_init__(self) -> None:
        if not self.trade_id:
            raise ValueError("a trade fill needs the venue's trade id")
        if not self.shares.is_positive:
            raise ValueError(f"trade {self.trade_id}: shares must be positive")
        if self.notional.is_negative or self.fee.is_negative:
            raise ValueError(f"trade {self.trade_id}: notional and fee must not be negative")
        if self.outcome_index < 0:
            raise ValueError(f"trade {self.trade_id}: outcome index must not be negative")

    @property
    def event_key(self) -> str:
        return f"trade:{self.trade_id}"


@dataclass(frozen=True, slots=True)
class MarketResolved:
    """A market resolved: its positions become claims worth the payout. Not a redemption."""

    account: AccountId
    condition_id: ConditionId
    resolution: Resolution
    at_ms: int

    @property
    def event_key(self) -> str:
        return f"resolution:{self.condition_id}"


@dataclass(frozen=True, slots=True)
class Redemption:
    """Claims turned into pUSD.

    `outcome_index` None redeems the whole condition (CTF markets: `redeemPositions` over
    every index set, one payout for all outcomes held); an index redeems that outcome only
    (Protocol V2: `Router.redeem(condition, outcomeIndex, amount)`). `payout` is what the
    venue reports it paid (live) or the claim value (paper). `report_id` names the report
    (transaction hash, activity id) for the audit trail; it is deliberately *not* the
    idempotency key, because the venue can report one redemption under two ids.
    """

    account: AccountId
    condition_id: ConditionId
    outcome_index: int | None
    payout: Usdc
    report_id: str
    at_ms: int

    def __post_init__(self) -> None:
        if self.payout.is_negative:
            raise ValueError(f"redemption {self.report_id}: payout must not be negative")
        if self.outcome_index is not None and self.outcome_index < 0:
            raise ValueError(f"redemption {self.report_id}: outcome index must not be negative")

    @property
    def event_key(self) -> str:
        claim = "all" if self.outcome_index is None else str(self.outcome_index)
        return f"redemption:{self.condition_id}:{claim}"


LedgerEvent = CashMovement | TradeFill | MarketResolved | Redemption


# --- state ----------------------------------------------------------------------------------


class HoldingStatus(StrEnum):
    OPEN = "open"  # the market has not resolved
    RESOLVED = "resolved"  # a claim worth payout x shares, not yet cash
    REDEEMED = "redeemed"  # the claim was paid; the position is closed for good


class ResolutionResult(StrEnum):
    WON = "won"
    LOST = "lost"
    SPLIT = "split"  # e.g. a 50-50 resolution


@dataclass(frozen=True, slots=True)
class Holding:
    """A position and where it stands in its lifecycle (open, resolved claim, redeemed)."""

    position: Position
    status: HoldingStatus = HoldingStatus.OPEN
    payout_per_share: Decimal | None = None
    redeemed_payout: Usdc = Usdc(0)
    opened_at_ms: int = 0
    updated_at_ms: int = 0

    @property
    def token_id(self) -> TokenId:
        return self.position.token_id

    @property
    def condition_id(self) -> ConditionId:
        return self.position.condition_id

    @property
    def result(self) -> ResolutionResult | None:
        if self.payout_per_share is None:
            return None
        if self.payout_per_share == 1:
            return ResolutionResult.WON
        if self.payout_per_share == 0:
            return ResolutionResult.LOST
        return ResolutionResult.SPLIT

    @property
    def claim_value(self) -> Usdc:
        """What redeeming the shares pays by the resolution (rounded down); 0 unless RESOLVED."""
        if self.status is not HoldingStatus.RESOLVED or self.payout_per_share is None:
            return Usdc(0)
        return Usdc(self.position.shares.scale_by(self.payout_per_share, Rounding.DOWN).units)


@dataclass(frozen=True, slots=True)
class AccountTotals:
    """The account's money. Invariant: deposits - withdrawals + realized == cash + open cost."""

    cash: Usdc = Usdc(0)
    deposits: Usdc = Usdc(0)
    withdrawals: Usdc = Usdc(0)
    realized_pnl: Usdc = Usdc(0)
    fees_paid: Usdc = Usdc(0)
    peak_equity: Usdc = Usdc(0)


@dataclass(frozen=True, slots=True)
class LeaderPnl:
    """What copying one leader has earned (realized) and its best PnL so far (for drawdown)."""

    leader: Address
    realized_pnl: Usdc = Usdc(0)
    peak_pnl: Usdc = Usdc(0)


@dataclass(frozen=True, slots=True)
class Booking:
    """One applied event and the state it produced: exactly what the store must persist.

    `holdings`, `leaders` and `leader_days` hold the *new* values of what the event
    touched; `realized` is this event's realized PnL per leader; `allocations` splits a
    redemption's payout across the positions it closed.
    """

    event: LedgerEvent
    seq: int
    totals: AccountTotals
    holdings: tuple[Holding, ...] = ()
    leaders: tuple[LeaderPnl, ...] = ()
    leader_days: Mapping[tuple[Address, int], Usdc] = field(default_factory=dict)
    realized: Mapping[Address, Usdc] = field(default_factory=dict)
    allocations: Mapping[TokenId, Usdc] = field(default_factory=dict)

    @property
    def account(self) -> AccountId:
        return self.event.account


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """The whole state of one account's ledger, as saved and reloaded."""

    account: AccountId
    seq: int = 0
    totals: AccountTotals = AccountTotals()
    holdings: tuple[Holding, ...] = ()
    leaders: tuple[LeaderPnl, ...] = ()
    leader_days: Mapping[tuple[Address, int], Usdc] = field(default_factory=dict)
    resolutions: Mapping[ConditionId, Resolution] = field(default_factory=dict)
    event_keys: frozenset[str] = frozenset()
    """Keys of booked trades and cash movements (resolutions and redemptions are keyed by
    `resolutions` and the holdings' status)."""

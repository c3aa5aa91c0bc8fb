"""The service layer: the one set of operator operations behind every front end.

The CLI, the web dashboard, Telegram commands and the daily digest all ask the same
questions (what is the state, what do we hold, why didn't it copy?) and give the same
orders (pause a leader, engage the kill switch). They ask them here, through
`OperatorService`, so each front end stays a thin transport and a number means the same
thing wherever it is shown (freqtrade's RPC idea: one core, many transports).

The results are immutable records of domain types: amounts are `Usdc`/`Shares`, prices
`Decimal`, never floats. `polytail.app.jsonable` turns them into JSON (money as exact
decimal strings) for the HTTP API and webhooks.

Methods are coroutines: a store-backed implementation reads the database off the event
loop, and the engine-backed one answers from memory; callers do not need to know which.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Final, Protocol

from polytail.config.schema import Mode
from polytail.domain.decisions import Decision, ReasonCode
from polytail.domain.fills import LeaderFill
from polytail.domain.ids import AccountId, Address, ConditionId, FillId, TokenId
from polytail.domain.money import Shares, Usdc
from polytail.domain.orders import Order
from polytail.domain.positions import Position
from polytail.engine.events import BreakerScope, ComponentState

_MICRO: Final = Decimal("0.000001")

# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------


class ServiceError(Exception):
    """An operation could not be done. The message says why and what to do instead."""


class UnknownLeader(ServiceError):
    """No watched leader matches what the operator typed."""


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """One component's last reported state (`engine.events.ComponentStatus`)."""

    component: str
    state: ComponentState
    detail: str
    since_ms: int | None  # None: it has not reported yet
    required: bool  # readiness waits for it

    @property
    def is_up(self) -> bool:
        """READY or DEGRADED: working (DEGRADED is shown, but counts as ready)."""
        return self.state in (ComponentState.READY, ComponentState.DEGRADED)


@dataclass(frozen=True, slots=True)
class Readiness:
    """Ready when every required component is up: each enabled feed, the broker and
    startup reconciliation."""

    json_properties: ClassVar[tuple[str, ...]] = ("waiting_for",)

    ready: bool
    components: tuple[ComponentHealth, ...]

    @property
    def waiting_for(self) -> tuple[str, ...]:
        return tuple(c.component for c in self.components if c.required and not c.is_up)


@dataclass(frozen=True, slots=True)
class BreakerView:
    """A risk breaker that is currently tripped (global, or for one leader)."""

    scope: BreakerScope
    reason: ReasonCode
    detail: str
    tripped_at_ms: int
    leader: Address | None = None


@dataclass(frozen=True, slots=True)
class KillSwitch:
    """While engaged, no new order is sent (exits included)."""

    engaged: bool
    source: str = ""  # who changed it last: file, cli, signal, dashboard, telegram
    since_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Pnl:
    json_properties: ClassVar[tuple[str, ...]] = ("total",)

    realized: Usdc
    unrealized: Usdc

    @property
    def total(self) -> Usdc:
        return self.realized + self.unrealized


@dataclass(frozen=True, slots=True)
class StatusView:
    """The one-screen answer to "what is it doing?"."""

    json_properties: ClassVar[tuple[str, ...]] = ("uptime_s",)

    mode: Mode
    account: AccountId
    started_at_ms: int
    now_ms: int
    cash: Usdc
    equity: Usdc  # cash + positions at their marks
    exposure: Usdc  # cost basis of open positions + committed open buy orders
    pnl_today: Pnl  # since 00:00 UTC
    pnl_total: Pnl  # since the account started
    open_orders: int
    positions: int
    breakers: tuple[BreakerView, ...]
    health: Readiness
    kill_switch: KillSwitch

    @property
    def uptime_s(self) -> int:
        return max(0, (self.now_ms - self.started_at_ms) // 1000)


@dataclass(frozen=True, slots=True)
class LeaderShare:
    """The part of a position bought copying one leader."""

    leader: Address
    label: str
    shares: Shares
    cost: Usdc


@dataclass(frozen=True, slots=True)
class PositionView:
    json_properties: ClassVar[tuple[str, ...]] = ("average_cost",)

    token_id: TokenId
    condition_id: ConditionId
    market: str  # the question, or the slug when the question is unknown
    outcome: str  # "Yes", "No", a candidate's name, ...
    shares: Shares
    cost: Usdc  # fees included
    mark: Decimal | None  # last price used to value it; None without a book
    market_value: Usdc | None
    unrealized_pnl: Usdc | None
    realized_pnl: Usdc
    by_leader: tuple[LeaderShare, ...]

    @property
    def average_cost(self) -> Decimal | None:
        """pUSD per share, fees included, to 6 decimals (for display)."""
        if self.shares.units == 0:
            return None
        return (Decimal(self.cost.units) / Decimal(self.shares.units)).quantize(_MICRO)

    @classmethod
    def of(
        cls,
        position: Position,
        *,
        market: str,
        outcome: str,
        mark: Decimal | None,
        labels: Mapping[Address, str],
    ) -> PositionView:
        """A view of a ledger position, valued with the domain's (never flattering) rules."""
        shares = tuple(
            LeaderShare(leader, labels.get(leader, leader), lot.shares, lot.cost)
            for leader, lot in sorted(position.lots.items())
            if lot.shares.units > 0
        )
        return cls(
            token_id=position.token_id,
            condition_id=position.condition_id,
            market=market,
            outcome=outcome,
            shares=position.shares,
            cost=position.cost,
            mark=mark,
            market_value=None if mark is None else position.market_value(mark),
            unrealized_pnl=None if mark is None else position.unrealized_pnl(mark),
            realized_pnl=position.realized_pnl,
            by_leader=shares,
        )


@dataclass(frozen=True, slots=True)
class OrderView:
    order: Order
    market: str = ""
    outcome: str = ""
    leader_label: str = ""


@dataclass(frozen=True, slots=True)
class LeaderView:
    json_properties: ClassVar[tuple[str, ...]] = ("copying",)

    address: Address
    label: str
    enabled: bool  # in the config
    paused: bool  # by an operator, until resumed
    copies: int
    skips: int
    realized_pnl: Usdc
    unrealized_pnl: Usdc
    budget: Usdc
    budget_used: Usdc  # cost of what its copies hold + open buy orders for it
    last_fill_at_ms: int | None = None

    @property
    def copying(self) -> bool:
        return self.enabled and not self.paused


@dataclass(frozen=True, slots=True)
class DecisionView:
    """One decision with what an operator needs to read it: labels and plain reasons."""

    json_properties: ClassVar[tuple[str, ...]] = ("explanations",)

    decision: Decision
    leader_label: str = ""
    market: str = ""
    outcome: str = ""
    fill: LeaderFill | None = None

    @property
    def explanations(self) -> tuple[str, ...]:
        """`code: meaning` for each reason, in the order the checks ran."""
        return tuple(f"{code}: {explain(code)}" for code in self.decision.reasons)


@dataclass(frozen=True, slots=True)
class LeaderDigest:
    address: Address
    label: str
    copies: int
    skips: int
    realized_pnl: Usdc


@dataclass(frozen=True, slots=True)
class DigestView:
    """One UTC day, for the daily digest."""

    day: dt.date
    mode: Mode
    account: AccountId
    equity: Usdc
    cash: Usdc
    exposure: Usdc
    pnl: Pnl  # of the day
    fills_detected: int
    copies: int
    skips: int
    top_skip_reasons: tuple[tuple[ReasonCode, int], ...]  # most frequent first
    orders_filled: int
    orders_failed: int  # rejected, or ended without any fill
    resolutions: int
    redeemed: Usdc
    errors: int
    leaders: tuple[LeaderDigest, ...]


# --------------------------------------------------------------------------------------
# the interface
# --------------------------------------------------------------------------------------


class OperatorService(Protocol):
    """Everything an operator can ask or order, whatever the front end.

    `by` names who gave an order (`cli`, `dashboard`, `telegram`, ...): it is recorded in
    the audit log and in the event the change publishes.
    """

    async def status(self) -> StatusView: ...

    async def readiness(self) -> Readiness: ...

    async def positions(self) -> tuple[PositionView, ...]:
        """Open (non-flat) positions, largest cost first."""
        ...

    async def orders(self, *, open_only: bool = True, limit: int = 100) -> tuple[OrderView, ...]:
        """Orders, newest first; only those that could still fill when `open_only`."""
        ...

    async def leaders(self) -> tuple[LeaderView, ...]: ...

    async def decisions(
        self, *, limit: int = 50, why: FillId | None = None
    ) -> tuple[DecisionView, ...]:
        """Recent decisions, newest first; with `why`, every decision about that leader
        fill (empty when none was recorded: the fill was never seen)."""
        ...

    async def pause_leader(self, leader: str, *, by: str) -> LeaderView:
        """Stop copying a leader (address, unique address prefix, or label; see
        `find_leader`). Exits of what its copies hold still follow it. Idempotent."""
        ...

    async def resume_leader(self, leader: str, *, by: str) -> LeaderView: ...

    async def set_kill_switch(self, on: bool, *, by: str) -> KillSwitch: ...

    async def daily_digest(self, day: dt.date | None = None) -> DigestView:
        """The digest of `day` (UTC), today when None."""
        ...


# --------------------------------------------------------------------------------------
# shared helpers for implementations and transports
# --------------------------------------------------------------------------------------

_MIN_PREFIX: Final = 6


def find_leader(leaders: Iterable[LeaderView], query: str) -> LeaderView:
    """The leader an operator means: exact address, exact label (any case), or a unique
    address prefix of at least 6 characters. Raises `UnknownLeader` naming the choices."""
    candidates = tuple(leaders)
    wanted = query.strip().lower()
    if not wanted:
        raise UnknownLeader("name a leader: its address, label or address prefix")
    for leader in candidates:
        if wanted in (leader.address, leader.label.lower()):
            return leader
    matches = [leader for leader in candidates if leader.address.startswith(wanted)]
    if len(wanted) >= _MIN_PREFIX and len(matches) == 1:
        return matches[0]
    known = ", ".join(f"{leader.label} ({leader.address})" for leader in candidates) or "none"
    if len(matches) > 1:
        raise UnknownLeader(f"{query!r} matches several leaders; be more precise. Watched: {known}")
    raise UnknownLeader(f"no watched leader matches {query!r}. Watched: {known}")


REASON_TEXT: Final[Mapping[ReasonCode, str]] = {
    ReasonCode.MARKET_UNKNOWN: "the market's metadata could not be found",
    ReasonCode.MARKET_CLOSED: "the market no longer accepts orders",
    ReasonCode.MARKET_RESOLVED: "the market has already resolved",
    ReasonCode.BOOK_UNAVAILABLE: "no order book was available to price the copy",
    ReasonCode.LEADER_NOT_WATCHED: "the wallet is not (or no longer) a watched leader",
    ReasonCode.LEADER_PAUSED: "an operator paused this leader",
    ReasonCode.FILTER_MIN_LEADER_NOTIONAL: "the leader's trade was below filters.min_leader_usdc",
    ReasonCode.FILTER_PRICE_BAND: "the price was outside filters.price_min..price_max",
    ReasonCode.FILTER_SPREAD: "the book's spread was wider than filters.max_spread",
    ReasonCode.FILTER_BOOK_DEPTH: "too little depth at the copy price (filters.min_depth_usdc)",
    ReasonCode.FILTER_CATEGORY: "the market's category is excluded by the filters",
    ReasonCode.FILTER_TAG: "the market's tags are excluded by the filters",
    ReasonCode.FILTER_SLUG_KEYWORD: "the market's slug is excluded by the keyword filters",
    ReasonCode.FILTER_TIME_TO_RESOLUTION: "the market ends later than "
    "filters.max_days_to_resolution",
    ReasonCode.FILTER_MIN_TIME_LEFT: "the market ends sooner than filters.min_minutes_left",
    ReasonCode.FILTER_MARKET_VERSION: "the market's protocol version is not in "
    "filters.market_versions",
    ReasonCode.FILTER_NEG_RISK: "neg-risk markets are excluded (filters.allow_neg_risk)",
    ReasonCode.FILTER_FILL_TOO_OLD: "the fill was older than filters.max_fill_age_s when seen",
    ReasonCode.FILTER_ROLE: "the leader's role (maker/taker) is not in filters.roles",
    ReasonCode.FILTER_SIDE: "this side (buy/sell) is excluded by filters.sides",
    ReasonCode.SIZE_ZERO: "the sized copy came out as zero",
    ReasonCode.SIZE_BELOW_MINIMUM: "the copy was below the venue's minimum order size",
    ReasonCode.SIZE_BANKROLL_UNKNOWN: (
        "bankroll sizing needs the leader's portfolio value, which is not known yet"
    ),
    ReasonCode.BOOK_LIQUIDITY: "the book within the limit price held less than the full copy",
    ReasonCode.SIZE_ACCUMULATING: "too small alone; added to this leader's accumulator",
    ReasonCode.SIZE_ACCUMULATED: "accumulated small copies reached the minimum size",
    ReasonCode.PRICE_SLIPPAGE: "the book was worse than pricing.slippage_bps allows",
    ReasonCode.PRICE_OFF_TICK: "no valid tick price within the slippage limit",
    ReasonCode.EXIT_NOTHING_HELD: "the leader sold, but we hold nothing bought copying it",
    ReasonCode.EXIT_MIRROR: "mirroring the leader's sale",
    ReasonCode.EXIT_MIRROR_DISABLED: "the leader sold, but exits.mirror_sells is off",
    ReasonCode.EXIT_LEADER_POSITION_UNKNOWN: (
        "the leader's position before the sale was unknown; treated as a full exit"
    ),
    ReasonCode.EXIT_REMAINDER_DUST: (
        "the rest would have been too small to ever sell alone, so all of it was sold"
    ),
    ReasonCode.EXIT_TAKE_PROFIT: "take-profit reached (exits.take_profit_pct)",
    ReasonCode.EXIT_STOP_LOSS: "stop-loss reached (exits.stop_loss_pct)",
    ReasonCode.EXIT_TRAILING_STOP: "trailing stop reached (exits.trailing_stop_pct)",
    ReasonCode.EXIT_BEFORE_RESOLUTION: "selling before the market ends "
    "(exits.exit_before_resolution_minutes)",
    ReasonCode.RISK_MAX_ORDER: "capped by risk.max_order_usdc",
    ReasonCode.RISK_MARKET_EXPOSURE: "capped by risk.max_market_usdc",
    ReasonCode.RISK_OUTCOME_EXPOSURE: "capped by risk.max_outcome_usdc",
    ReasonCode.RISK_LEADER_BUDGET: "capped by the leader's budget",
    ReasonCode.RISK_TOTAL_EXPOSURE: "capped by risk.max_total_usdc",
    ReasonCode.RISK_CASH_RESERVE: "not enough cash above risk.cash_reserve_usdc",
    ReasonCode.RISK_OPEN_ORDERS: "too many open orders (risk.max_open_orders)",
    ReasonCode.RISK_DAILY_LOSS: "today's loss reached risk.daily_loss_usdc",
    ReasonCode.RISK_LEADER_DAILY_LOSS: "this leader's copies lost risk.leader_daily_loss_usdc "
    "today",
    ReasonCode.RISK_DRAWDOWN: "drawdown from peak equity reached risk.max_drawdown_pct",
    ReasonCode.RISK_LEADER_DRAWDOWN: "this leader's drawdown reached risk.leader_max_drawdown_pct",
    ReasonCode.RISK_COOLDOWN: "cooling down after a losing exit (risk.cooldown_after_loss_s)",
    ReasonCode.KILL_SWITCH: "the kill switch is engaged",
    ReasonCode.COPIED: "copied",
}


def explain(code: ReasonCode) -> str:
    """What a reason code means, in words an operator reads on a phone."""
    return REASON_TEXT.get(code, code.value.replace("_", " "))

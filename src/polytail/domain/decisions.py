"""Decisions: the answer to "did it copy, how much, and why (not)?".

Every leader fill gets exactly one `Decision` per follower account, copy or skip, with the
reason codes that produced it. Skips are first-class records, not log lines: "why didn't
it copy?" is the most common question a copy trader asks, and it must always have an
answer in the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, Address, ConditionId, FillId, TokenId
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.orders import OrderType


class Action(StrEnum):
    COPY = "copy"
    SKIP = "skip"


class ReasonCode(StrEnum):
    """Why a decision came out as it did. Stable strings: stored, counted, and shown."""

    # inputs
    MARKET_UNKNOWN = "market_unknown"
    MARKET_CLOSED = "market_closed"
    MARKET_RESOLVED = "market_resolved"
    BOOK_UNAVAILABLE = "book_unavailable"
    LEADER_NOT_WATCHED = "leader_not_watched"
    LEADER_PAUSED = "leader_paused"
    # filters
    FILTER_MIN_LEADER_NOTIONAL = "filter_min_leader_notional"
    FILTER_PRICE_BAND = "filter_price_band"
    FILTER_SPREAD = "filter_spread"
    FILTER_BOOK_DEPTH = "filter_book_depth"
    FILTER_CATEGORY = "filter_category"
    FILTER_TAG = "filter_tag"
    FILTER_SLUG_KEYWORD = "filter_slug_keyword"
    FILTER_TIME_TO_RESOLUTION = "filter_time_to_resolution"
    FILTER_MIN_TIME_LEFT = "filter_min_time_left"
    FILTER_MARKET_VERSION = "filter_market_version"
    FILTER_NEG_RISK = "filter_neg_risk"
    FILTER_FILL_TOO_OLD = "filter_fill_too_old"
    FILTER_ROLE = "filter_role"
    FILTER_SIDE = "filter_side"
    # sizing and pricing
    SIZE_ZERO = "size_zero"
    SIZE_BELOW_MINIMUM = "size_below_minimum"
    SIZE_ACCUMULATING = "size_accumulating"
    SIZE_ACCUMULATED = "size_accumulated"
    SIZE_BANKROLL_UNKNOWN = "size_bankroll_unknown"
    PRICE_SLIPPAGE = "price_slippage"
    PRICE_OFF_TICK = "price_off_tick"
    BOOK_LIQUIDITY = "book_liquidity"
    # exits
    EXIT_NOTHING_HELD = "exit_nothing_held"
    EXIT_MIRROR = "exit_mirror"
    EXIT_MIRROR_DISABLED = "exit_mirror_disabled"
    EXIT_LEADER_POSITION_UNKNOWN = "exit_leader_position_unknown"
    EXIT_REMAINDER_DUST = "exit_remainder_dust"
    EXIT_TAKE_PROFIT = "exit_take_profit"
    EXIT_STOP_LOSS = "exit_stop_loss"
    EXIT_TRAILING_STOP = "exit_trailing_stop"
    EXIT_BEFORE_RESOLUTION = "exit_before_resolution"
    # risk (reductions and breaches)
    RISK_MAX_ORDER = "risk_max_order"
    RISK_MARKET_EXPOSURE = "risk_market_exposure"
    RISK_OUTCOME_EXPOSURE = "risk_outcome_exposure"
    RISK_LEADER_BUDGET = "risk_leader_budget"
    RISK_TOTAL_EXPOSURE = "risk_total_exposure"
    RISK_CASH_RESERVE = "risk_cash_reserve"
    RISK_OPEN_ORDERS = "risk_open_orders"
    RISK_DAILY_LOSS = "risk_daily_loss"
    RISK_LEADER_DAILY_LOSS = "risk_leader_daily_loss"
    RISK_DRAWDOWN = "risk_drawdown"
    RISK_LEADER_DRAWDOWN = "risk_leader_drawdown"
    RISK_COOLDOWN = "risk_cooldown"
    KILL_SWITCH = "kill_switch"
    # outcome
    COPIED = "copied"


_COPY: Final = Action.COPY
_NO_SHARES: Final = Shares(0)
_NO_USDC: Final = Usdc(0)


@dataclass(frozen=True, slots=True, init=False)
class Decision:
    """One account's decision about one leader fill (or one exit trigger).

    `reasons` lists every code that shaped the result in the order the checks ran: a
    skip's first code is the breach that stopped it; a copy may carry reductions
    (e.g. `risk_max_order`) that shrank it. `inputs` records the facts the decision was
    computed from, as strings, so it can be explained and replayed later.

    A copy carries everything an `OrderIntent` needs: `notional` is size x limit price
    (what a BUY may spend before fees), `fee` the worst-case taker fee on top of it,
    `expires_at` the time limit of a GTC copy (Unix seconds).
    """

    account: AccountId
    intent_key: str
    action: Action
    reasons: tuple[ReasonCode, ...]
    decided_at_ms: int
    fill_id: FillId | None = None
    leader: Address | None = None
    token_id: TokenId | None = None
    side: Side | None = None
    size: Shares = Shares(0)
    limit_price: Price | None = None
    notional: Usdc = Usdc(0)
    order_type: OrderType | None = None
    detail: str = ""
    inputs: Mapping[str, str] = field(default_factory=dict)
    condition_id: ConditionId | None = None
    fee: Usdc = Usdc(0)
    expires_at: int | None = None

    def __init__(  # noqa: PLR0917 - one parameter per field, as the generated one
        self,
        account: AccountId,
        intent_key: str,
        action: Action,
        reasons: tuple[ReasonCode, ...],
        decided_at_ms: int,
        fill_id: FillId | None = None,
        leader: Address | None = None,
        token_id: TokenId | None = None,
        side: Side | None = None,
        size: Shares = _NO_SHARES,
        limit_price: Price | None = None,
        notional: Usdc = _NO_USDC,
        order_type: OrderType | None = None,
        detail: str = "",
        inputs: Mapping[str, str] | None = None,
        condition_id: ConditionId | None = None,
        fee: Usdc = _NO_USDC,
        expires_at: int | None = None,
    ) -> None:
        """The generated `__init__` with the same parameters and checks, written out.

        A decision is built for every leader fill, and the generated one of a frozen
        class looks `object.__setattr__` up again for each of the 18 fields; binding it
        once makes construction about a sixth cheaper. The instance is as frozen as
        before (assignment raises). `inputs` defaults to a new empty dict, as the field's
        `default_factory` says; tests hold the parameters and the fields together.
        """
        if not reasons:
            raise ValueError("a decision needs at least one reason code")
        if action is _COPY:
            if size.units <= 0 or limit_price is None or side is None:
                raise ValueError("a copy needs a side, a positive size and a limit price")
        elif size.units != 0:
            raise ValueError("a skip carries no size")
        init = object.__setattr__
        init(self, "account", account)
        init(self, "intent_key", intent_key)
        init(self, "action", action)
        init(self, "reasons", reasons)
        init(self, "decided_at_ms", decided_at_ms)
        init(self, "fill_id", fill_id)
        init(self, "leader", leader)
        init(self, "token_id", token_id)
        init(self, "side", side)
        init(self, "size", size)
        init(self, "limit_price", limit_price)
        init(self, "notional", notional)
        init(self, "order_type", order_type)
        init(self, "detail", detail)
        init(self, "inputs", {} if inputs is None else inputs)
        init(self, "condition_id", condition_id)
        init(self, "fee", fee)
        init(self, "expires_at", expires_at)

    @property
    def is_copy(self) -> bool:
        return self.action is Action.COPY

    @property
    def primary_reason(self) -> ReasonCode:
        return self.reasons[0]

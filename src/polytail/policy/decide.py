"""The copy decision: one leader fill in, one `Decision` out, copy or skip, with reasons.

`Policy` is configured once from the policy sections of the configuration and is
stateless afterwards: `decide` is a pure function of its arguments (the fill, the quote,
the portfolio and leader views, the time and the accumulator), so paper, backtest and
live runs make identical decisions from identical inputs, and any recorded decision can
be replayed.

Order of evaluation for a leader BUY (the first failing step is the reason):

1. inputs: leader watched and enabled; kill switch; `filters.sides`; leader not paused;
   market known, open (not resolved or closed, accepting orders), token one of its
   outcomes; a book for that token
2. filters (`policy.filters`): role, fill age, leader notional, price band, version,
   neg-risk, category, tag, slug keyword, time to resolution, time left, spread; then
   the limit price (leader price + slippage, rounded down to the tick:
   `price_off_tick` when no tradable price is within tolerance) and the book depth
   within it
3. breakers (`policy.risk`): daily loss, leader daily loss, drawdown, leader drawdown,
   cool-down, open orders
4. sizing: the budget by mode (`policy.sizing`), turned into shares at the limit (with
   the worst-case fee when `fee_aware`); below the venue minimum it is skipped
   (`size_below_minimum`) or accumulated (`size_accumulating`, then `size_accumulated`)
5. book: a marketable copy with nothing within the limit is skipped (`price_slippage`);
   a FOK copy is reduced to what the asks hold within the limit (`book_liquidity`); a
   FAK copy takes what is there; a GTC copy rests and needs no liquidity
6. caps (`policy.risk`): max order, market, outcome, leader budget, total, cash; each can
   only reduce the size; one too small for the venue minimum stops the copy

Sizes are on the 0.01 step and at least the venue minimum by construction: every step
computes the largest size that fits, and a step that cannot fit the minimum skips.

A leader SELL is an exit (`policy.exits`): the kill switch, `filters.sides` and
`exits.mirror_sells` can stop it; no filter, breaker or cap does, and a paused leader's
exits are still mirrored (pausing stops new positions, not the way out of old ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from polytail.config.schema import (
    ExitSettings,
    LeaderSettings,
    PolytailConfig,
    PricingSettings,
    RiskSettings,
)
from polytail.domain.book import OrderBook
from polytail.domain.decisions import Action, Decision, ReasonCode
from polytail.domain.fills import LeaderFill, Side
from polytail.domain.ids import AccountId, Address, TokenId, account_id, copy_intent_key
from polytail.domain.market import Market
from polytail.domain.money import SCALE, Price, Shares, Usdc, format_units
from polytail.domain.orders import OrderType
from polytail.policy.accumulator import Accumulator, Pending
from polytail.policy.exits import exit_intent_key, mirror_shares, triggered_rule
from polytail.policy.facts import Facts
from polytail.policy.filters import check_depth, check_entry, check_side, fill_time_ms
from polytail.policy.pricing import (
    buy_limit,
    expiry_for,
    minimum_shares,
    sell_limit,
    step_down,
    worst_fee_price,
)
from polytail.policy.risk import CAPS, check_breakers, headrooms
from polytail.policy.rules import ExitRules, LeaderRules, RiskRules, compile_leaders
from polytail.policy.sizing import CostModel, copy_budget
from polytail.policy.views import LeaderView, PortfolioView, Quote

Skip = tuple[ReasonCode, str]
Outcome = tuple[Decision, Accumulator]

_CAPS: Final = tuple((code, "room_" + code.value.removeprefix("risk_")) for code in CAPS)
"""Each cap's code and the fact its room is recorded under, in check order."""


@dataclass(slots=True)
class _Case:
    """One decision in progress: its inputs and the facts gathered so far (local to one
    call of `decide`, never shared)."""

    fill: LeaderFill
    quote: Quote | None
    portfolio: PortfolioView
    leader: LeaderView
    rules: LeaderRules
    now_ms: int
    facts: dict[str, object]
    pending: Accumulator


@dataclass(slots=True)
class _Order:
    """A copy taking shape: where it trades and what a size costs there."""

    market: Market
    book: OrderBook
    order_type: OrderType
    limit: int
    floor: int  # venue minimum, shares on the step
    cost: CostModel
    within: Shares = Shares(0)  # what the book holds within the limit (BUYs: the asks)


@dataclass(slots=True)
class _Sale:
    order: _Order
    size: int
    reasons: list[ReasonCode]


class Policy:
    """The copy policy of one follower account, compiled from its configuration."""

    __slots__ = ("_exits", "_leaders", "_pricing", "_risk", "account")

    def __init__(
        self,
        *,
        account: str,
        leaders: Sequence[LeaderSettings],
        pricing: PricingSettings,
        exits: ExitSettings,
        risk: RiskSettings,
    ) -> None:
        self.account: AccountId = account_id(account)
        self._leaders = compile_leaders(leaders, risk.max_leader_usdc)
        self._pricing = pricing  # used as is: a frozen section of plain values
        self._exits = ExitRules.compile(exits)
        self._risk = RiskRules.compile(risk)

    @classmethod
    def from_config(cls, config: PolytailConfig) -> Policy:
        """From a validated configuration; leaders carry their effective filters and
        sizing (global sections + overrides); budgets follow `leader_budget`."""
        return cls(
            account=config.account,
            leaders=config.leaders,
            pricing=config.pricing,
            exits=config.exits,
            risk=config.risk,
        )

    # ----------------------------------------------------------------------------------
    # leader fills
    # ----------------------------------------------------------------------------------
    def decide(
        self,
        fill: LeaderFill,
        quote: Quote | None,
        portfolio: PortfolioView,
        leader: LeaderView,
        *,
        now_ms: int,
        pending: Accumulator,
    ) -> Outcome:
        """Decide one leader fill. Returns the decision and the updated accumulator."""
        facts: dict[str, object] = {
            "leader_side": fill.side,
            "leader_price": fill.price,
            "leader_size": fill.size,
            "leader_usdc": fill.usdc,
            "leader_role": fill.role,
            "fill_age_ms": now_ms - fill_time_ms(fill),
        }
        rules = self._leaders.get(fill.wallet)
        if rules is None or not rules.enabled:
            why = "is not in [[leaders]]" if rules is None else "is disabled (enabled = false)"
            refusal = self._skip_fill(
                fill,
                quote,
                now_ms,
                facts,
                code=ReasonCode.LEADER_NOT_WATCHED,
                detail=f"leader {why}",
            )
            return refusal, pending
        case = _Case(
            fill,
            quote,
            portfolio,
            leader,
            rules,
            now_ms,
            facts,
            _settle_pending(pending, fill, rules, now_ms),
        )
        if portfolio.kill_switch:
            return self._skip(case, ReasonCode.KILL_SWITCH, "the kill switch is on")
        skip = check_side(rules.filters, fill.side)
        if skip is not None:
            return self._skip(case, *skip)
        if fill.side is Side.SELL:
            return self._mirror(case)
        if fill.wallet in portfolio.paused_leaders:
            return self._skip(case, ReasonCode.LEADER_PAUSED, "leader is paused")
        return self._buy(case)

    def _buy(self, case: _Case) -> Outcome:
        order = self._price_buy(case)
        if isinstance(order, tuple):
            return self._skip(case, *order)
        skip = check_breakers(self._risk, case.rules, case.portfolio, case.now_ms)
        if skip is not None:
            return self._skip(case, *skip)
        reasons = [ReasonCode.COPIED]
        sized = self._size_buy(case, order, reasons)
        if not isinstance(sized, int):
            return sized
        size = _within_liquidity(order, sized, order.within, reasons)
        if isinstance(size, tuple):
            return self._skip(case, *size)
        size = self._capped(case, order, size, reasons)
        if isinstance(size, tuple):
            return self._skip(case, *size)
        cost = order.cost
        decision = self._order_decision(
            case,
            order,
            reasons,
            size=size,
            notional=cost.notional(size),
            fee=cost.fee(size),
        )
        return decision, case.pending

    def _price_buy(self, case: _Case) -> _Order | Skip:
        """Inputs, filters, the limit price and the depth within it."""
        fill, facts, quote = case.fill, case.facts, case.quote
        skip = _quote_problem(quote, fill.token_id)
        if skip is not None:
            return skip
        assert quote is not None and quote.book is not None
        market, book = quote.market, quote.book
        best_ask = book.best_ask
        facts["best_bid"] = book.best_bid
        facts["best_ask"] = best_ask
        skip = check_entry(case.rules.filters, fill, market, book, case.now_ms)
        if skip is not None:
            return skip
        tick, min_size = _tick_and_minimum(market, book)
        limit = buy_limit(fill.price, self._pricing.slippage_bps, tick)
        if limit is None:
            return _off_tick(tick, self._pricing.slippage_bps, fill)
        facts["limit"] = Price(limit)
        depth_units, depth_notional = book.depth_units("asks", limit)
        depth_shares = facts["asks_within_limit"] = Shares(depth_units)
        skip = check_depth(case.rules.filters, depth_notional)
        if skip is not None:
            return skip
        low = limit if best_ask is None or best_ask.micros > limit else best_ask.micros
        order_type = self._pricing.buy_order_type
        return _Order(
            market,
            book,
            order_type,
            limit,
            minimum_shares(order_type, limit, min_size),
            CostModel.at(market.fees, limit, worst_fee_price(low, limit)),
            depth_shares,
        )

    def _size_buy(self, case: _Case, order: _Order, reasons: list[ReasonCode]) -> int | Outcome:
        """Shares the sizing mode buys at the limit, with any accumulated amount."""
        fill, portfolio, sizing = case.fill, case.portfolio, case.rules.sizing
        value = case.leader.portfolio_value
        budget = copy_budget(
            sizing,
            fill.usdc.units,
            portfolio.equity.units,
            None if value is None else value.units,
        )
        if isinstance(budget, tuple):
            return self._skip(case, *budget)
        entry = case.pending.get(fill.token_id, fill.wallet)
        if sizing.accumulate and entry is not None and entry.buy.is_positive:
            budget += entry.buy.units
            case.facts["accumulated_usdc"] = entry.buy
        case.facts["budget"] = Usdc(budget)
        size = order.cost.max_shares(budget, with_fee=sizing.fee_aware)
        if size < order.floor:
            return self._below_minimum(case, entry, order.floor, buy=Usdc(budget))
        if "accumulated_usdc" in case.facts:
            reasons.append(ReasonCode.SIZE_ACCUMULATED)
        if entry is not None:
            case.pending = case.pending.discard(fill.token_id, fill.wallet)
        return size

    def _capped(
        self, case: _Case, order: _Order, size: int, reasons: list[ReasonCode]
    ) -> int | Skip:
        """The size after every cap, in order; each may only reduce it."""
        cost = order.cost
        spend = cost.spend(size)
        least = cost.spend(order.floor)
        facts = case.facts
        rooms = headrooms(
            self._risk,
            case.rules,
            case.portfolio,
            condition=order.market.condition_id,
            token=case.fill.token_id,
        )
        for (code, key), room in zip(_CAPS, rooms, strict=True):
            facts[key] = Usdc(room)
            if room < spend:
                if room < least:
                    return (
                        code,
                        f"room {format_units(room)} is below the {format_units(least)} "
                        "a minimum order costs",
                    )
                size = cost.max_shares(room)
                spend = cost.spend(size)
                reasons.append(code)
        return size

    def _mirror(self, case: _Case) -> Outcome:
        """A leader SELL: sell the same fraction of what we hold for that leader."""
        if not self._exits.mirror_sells:
            return self._skip(case, ReasonCode.EXIT_MIRROR_DISABLED, "exits.mirror_sells is off")
        fill, facts, portfolio, quote = case.fill, case.facts, case.portfolio, case.quote
        skip = _quote_problem(quote, fill.token_id)
        if skip is not None:
            return self._skip(case, *skip)
        assert quote is not None and quote.book is not None
        market, book = quote.market, quote.book
        held = portfolio.held(fill.token_id, fill.wallet)
        available = portfolio.available(fill.token_id, fill.wallet).units
        facts["held"] = held
        facts["available"] = Shares(available)
        facts["leader_held_before"] = case.leader.position_before
        if available <= 0:
            detail = (
                "nothing held for this leader"
                if held.units == 0
                else f"all {held} shares are already in open sell orders"
            )
            return self._skip(case, ReasonCode.EXIT_NOTHING_HELD, detail)
        tick, min_size = _tick_and_minimum(market, book)
        limit = sell_limit(fill.price, self._pricing.slippage_bps, tick)
        if limit is None:
            return self._skip(case, *_off_tick(tick, self._pricing.slippage_bps, fill))
        facts["limit"] = Price(limit)
        order_type = self._pricing.sell_order_type
        order = _Order(
            market,
            book,
            order_type,
            limit,
            minimum_shares(order_type, limit, min_size),
            _sell_cost(market, book, limit),
        )
        entry = case.pending.get(fill.token_id, fill.wallet)
        queued = entry.sell.units if entry is not None and case.rules.sizing.accumulate else 0
        before = case.leader.position_before
        fresh, full = mirror_shares(
            max(0, available - queued), fill.size.units, None if before is None else before.units
        )
        reasons = [ReasonCode.EXIT_MIRROR]
        if before is None or before.units <= 0:
            reasons.append(ReasonCode.EXIT_LEADER_POSITION_UNKNOWN)
        want = step_down(min(fresh + queued, available))
        if not full and want >= order.floor and step_down(available - want) < order.floor:
            want = step_down(available)  # what would be left could never be sold alone
            reasons.append(ReasonCode.EXIT_REMAINDER_DUST)
        if want < order.floor:
            return self._below_minimum(case, entry, order.floor, sell=Shares(fresh))
        if queued:
            facts["accumulated_shares"] = Shares(queued)
            reasons.append(ReasonCode.SIZE_ACCUMULATED)
        if entry is not None:
            case.pending = case.pending.discard(fill.token_id, fill.wallet)
        size = _within_liquidity(order, want, _bids_within(book, limit, facts), reasons)
        if isinstance(size, tuple):
            return self._skip(case, *size)
        decision = self._order_decision(
            case,
            order,
            reasons,
            size=size,
            notional=size * limit // SCALE,  # the least it can receive
            fee=order.cost.fee(size),
        )
        return decision, case.pending

    # ----------------------------------------------------------------------------------
    # exit rules
    # ----------------------------------------------------------------------------------
    def exit_rules(
        self,
        *,
        token: TokenId,
        quote: Quote | None,
        portfolio: PortfolioView,
        mark: Price,
        high_water: Price | None,
        now_ms: int,
    ) -> tuple[Decision, ...]:
        """Exit decisions for the lots of one position that trigger a rule at `mark`.

        `high_water` is the highest mark since the position was opened (for the trailing
        stop). Lots with nothing available (all in open sell orders) give nothing, and so
        does a market that is closed or resolved (redemption closes those). A triggered
        lot that cannot be sold (kill switch, no book, nothing bid within tolerance,
        below the venue minimum) gives a skip, so the reason is on record.
        """
        exits = self._exits
        position = portfolio.positions.get(token)
        if not exits.any_rule or position is None or quote is None:
            return ()
        market = quote.market
        if market.is_resolved or market.closed or not market.has_token(token):
            return ()
        decisions = []
        for leader, lot in position.lots.items():
            available = portfolio.available(token, leader).units
            if available <= 0:
                continue
            rule = triggered_rule(
                exits,
                lot,
                mark=mark,
                high_water=high_water,
                end_date=market.end_date,
                now_ms=now_ms,
            )
            if rule is None:
                continue
            version = portfolio.lot_versions.get((token, leader), 0)
            facts: dict[str, object] = {
                "mark": mark,
                "high_water": high_water,
                "lot_shares": lot.shares,
                "lot_cost": lot.cost,
                "available": Shares(available),
                "end_date": market.end_date,
            }
            key = exit_intent_key(rule, token, leader, version)
            sale = self._rule_exit(
                quote, portfolio, token=token, rule=rule, available=available, facts=facts
            )
            if isinstance(sale, tuple):
                code, detail = sale
                decisions.append(
                    Decision(
                        account=self.account,
                        intent_key=key,
                        action=Action.SKIP,
                        reasons=(code, rule),
                        decided_at_ms=now_ms,
                        leader=leader,
                        token_id=token,
                        side=Side.SELL,
                        detail=detail,
                        inputs=Facts(facts),
                        condition_id=market.condition_id,
                    )
                )
                continue
            order, size = sale.order, sale.size
            decisions.append(
                self._decision(
                    order,
                    sale.reasons,
                    token=token,
                    leader=leader,
                    fill=None,
                    side=Side.SELL,
                    size=size,
                    notional=size * order.limit // SCALE,
                    fee=order.cost.fee(size),
                    intent_key=key,
                    now_ms=now_ms,
                    facts=facts,
                )
            )
        return tuple(decisions)

    def _rule_exit(
        self,
        quote: Quote,
        portfolio: PortfolioView,
        *,
        token: TokenId,
        rule: ReasonCode,
        available: int,
        facts: dict[str, object],
    ) -> _Sale | Skip:
        """Sell a triggered lot's available shares from the best bid less the tolerance."""
        if portfolio.kill_switch:
            return ReasonCode.KILL_SWITCH, "the kill switch is on"
        market, book = quote.market, quote.book
        if book is None or book.token_id != token:
            return ReasonCode.BOOK_UNAVAILABLE, "no book for this outcome"
        best_bid = book.best_bid
        facts["best_bid"] = best_bid
        if best_bid is None:
            return ReasonCode.PRICE_SLIPPAGE, "nobody bids for this outcome"
        tick, min_size = _tick_and_minimum(market, book)
        limit = sell_limit(best_bid.to_decimal(), self._pricing.slippage_bps, tick)
        if limit is None:
            return ReasonCode.PRICE_OFF_TICK, f"no tradable price near the bid {best_bid}"
        facts["limit"] = Price(limit)
        order_type = self._pricing.sell_order_type
        order = _Order(
            market,
            book,
            order_type,
            limit,
            minimum_shares(order_type, limit, min_size),
            _sell_cost(market, book, limit),
        )
        want = step_down(available)
        if want < order.floor:
            return (
                ReasonCode.SIZE_BELOW_MINIMUM,
                f"{format_units(want)} shares, the venue minimum is {format_units(order.floor)}",
            )
        reasons = [rule]
        size = _within_liquidity(order, want, _bids_within(book, limit, facts), reasons)
        if isinstance(size, tuple):
            return size
        return _Sale(order, size, reasons)

    # ----------------------------------------------------------------------------------
    # the accumulator
    # ----------------------------------------------------------------------------------
    def expire_pending(self, pending: Accumulator, now_ms: int) -> Accumulator:
        """Drop accumulated amounts past their leader's window (and of unknown leaders)."""
        for (token, leader), entry in list(pending.items()):
            rules = self._leaders.get(leader)
            if rules is None or entry.expired(now_ms, rules.sizing.accumulate_window_ms):
                pending = pending.discard(token, leader)
        return pending

    def _below_minimum(
        self,
        case: _Case,
        entry: Pending | None,
        floor: int,
        *,
        buy: Usdc = Usdc(0),
        sell: Shares = Shares(0),
    ) -> Outcome:
        """Skip a copy too small for the venue, or accumulate it. `buy` is the whole
        pUSD amount (accumulated included); `sell` the shares this fill adds."""
        case.facts["venue_minimum_shares"] = Shares(floor)
        fill = case.fill
        buying = fill.side is Side.BUY
        if not case.rules.sizing.accumulate:
            what = f"{buy} pUSD" if buying else f"{sell} shares"
            return self._skip(
                case,
                ReasonCode.SIZE_BELOW_MINIMUM,
                f"{what} is below the venue minimum of {format_units(floor)} shares",
            )
        if entry is None:
            entry = Pending(buy=buy, sell=sell, since_ms=case.now_ms, fills=1)
        elif buying:
            entry = replace(entry, buy=buy, fills=entry.fills + 1)
        else:
            entry = replace(entry, sell=entry.sell + sell, fills=entry.fills + 1)
        case.pending = case.pending.set(fill.token_id, fill.wallet, entry)
        case.facts["accumulated_fills"] = entry.fills
        amount = f"{entry.buy} pUSD" if buying else f"{entry.sell} shares"
        return self._skip(
            case,
            ReasonCode.SIZE_ACCUMULATING,
            f"accumulating {amount} over {entry.fills} fills until the venue minimum of "
            f"{format_units(floor)} shares",
        )

    # ----------------------------------------------------------------------------------
    # building decisions
    # ----------------------------------------------------------------------------------
    def _skip(self, case: _Case, code: ReasonCode, detail: str) -> Outcome:
        decision = self._skip_fill(
            case.fill, case.quote, case.now_ms, case.facts, code=code, detail=detail
        )
        return decision, case.pending

    def _skip_fill(
        self,
        fill: LeaderFill,
        quote: Quote | None,
        now_ms: int,
        facts: dict[str, object],
        *,
        code: ReasonCode,
        detail: str,
    ) -> Decision:
        return Decision(
            account=self.account,
            intent_key=copy_intent_key(fill.fill_id),
            action=Action.SKIP,
            reasons=(code,),
            decided_at_ms=now_ms,
            fill_id=fill.fill_id,
            leader=fill.wallet,
            token_id=fill.token_id,
            side=fill.side,
            detail=detail,
            inputs=Facts(facts),
            condition_id=None if quote is None else quote.market.condition_id,
        )

    def _order_decision(
        self,
        case: _Case,
        order: _Order,
        reasons: list[ReasonCode],
        *,
        size: int,
        notional: int,
        fee: int,
    ) -> Decision:
        """The copy of `case.fill`."""
        fill = case.fill
        return self._decision(
            order,
            reasons,
            token=fill.token_id,
            leader=fill.wallet,
            fill=fill,
            side=fill.side,
            size=size,
            notional=notional,
            fee=fee,
            intent_key=copy_intent_key(fill.fill_id),
            now_ms=case.now_ms,
            facts=case.facts,
        )

    def _decision(
        self,
        order: _Order,
        reasons: list[ReasonCode],
        *,
        token: TokenId,
        leader: Address,
        fill: LeaderFill | None,
        side: Side,
        size: int,
        notional: int,
        fee: int,
        intent_key: str,
        now_ms: int,
        facts: dict[str, object],
    ) -> Decision:
        return Decision(
            account=self.account,
            intent_key=intent_key,
            action=Action.COPY,
            reasons=tuple(reasons),
            decided_at_ms=now_ms,
            fill_id=None if fill is None else fill.fill_id,
            leader=leader,
            token_id=token,
            side=side,
            size=Shares(size),
            limit_price=Price(order.limit),
            notional=Usdc(notional),
            order_type=order.order_type,
            inputs=Facts(facts),
            condition_id=order.market.condition_id,
            fee=Usdc(fee),
            expires_at=expiry_for(order.order_type, now_ms, self._pricing.gtc_ttl_s),
        )


def _settle_pending(
    pending: Accumulator, fill: LeaderFill, rules: LeaderRules, now_ms: int
) -> Accumulator:
    """Drop an expired entry, and the amount of the side opposite to this fill."""
    entry = pending.get(fill.token_id, fill.wallet)
    if entry is None:
        return pending
    if entry.expired(now_ms, rules.sizing.accumulate_window_ms):
        return pending.discard(fill.token_id, fill.wallet)
    if fill.side is Side.BUY and entry.sell.units:
        entry = replace(entry, sell=Shares(0))
    elif fill.side is Side.SELL and entry.buy.units:
        entry = replace(entry, buy=Usdc(0))
    else:
        return pending
    if not entry.buy.units and not entry.sell.units:
        return pending.discard(fill.token_id, fill.wallet)
    return pending.set(fill.token_id, fill.wallet, entry)


def _quote_problem(quote: Quote | None, token: TokenId) -> Skip | None:
    """Why `token` cannot be traded on this quote, if it cannot."""
    if quote is None:
        return ReasonCode.MARKET_UNKNOWN, "no metadata for this market"
    market = quote.market
    if market.is_resolved:
        return ReasonCode.MARKET_RESOLVED, "the market has resolved"
    if market.closed or not market.active or not market.accepting_orders:
        return ReasonCode.MARKET_CLOSED, "the market is closed or not accepting orders"
    if not market.has_token(token):
        return ReasonCode.MARKET_UNKNOWN, f"token {token} is not an outcome of this market"
    book = quote.book
    if book is None:
        return ReasonCode.BOOK_UNAVAILABLE, "no book for this outcome"
    if book.token_id != token:
        return ReasonCode.BOOK_UNAVAILABLE, f"the book is for token {book.token_id}"
    return None


def _tick_and_minimum(market: Market, book: OrderBook) -> tuple[int, int]:
    """The tick and minimum size in force: the book's tick when it gives one (it is
    fresher: ticks change near 0 and 1), and the larger minimum when both give one."""
    tick = book.tick.micros if book.tick is not None else market.tick.micros
    minimum = market.min_size.units
    if book.min_size is not None and book.min_size.units > minimum:
        minimum = book.min_size.units
    return tick, minimum


def _off_tick(tick: int, bps: int, fill: LeaderFill) -> Skip:
    return (
        ReasonCode.PRICE_OFF_TICK,
        f"no price on the {format_units(tick)} tick within {bps} bps of {fill.price}",
    )


def _sell_cost(market: Market, book: OrderBook, limit: int) -> CostModel:
    """A SELL fills at the limit or better (up to the best bid): the worst fee is there."""
    best_bid = book.best_bid
    high = limit if best_bid is None or best_bid.micros < limit else best_bid.micros
    return CostModel.at(market.fees, limit, worst_fee_price(limit, high))


def _bids_within(book: OrderBook, limit: int, facts: dict[str, object]) -> Shares:
    shares = Shares(book.depth_units("bids", limit)[0])
    facts["bids_within_limit"] = shares
    return shares


def _within_liquidity(
    order: _Order, want: int, within: Shares, reasons: list[ReasonCode]
) -> int | Skip:
    """The size after the book check: a marketable order needs something within the
    limit; a FOK order no more than is there (else it is killed); a FAK order takes what
    is there; a GTC order rests and needs nothing."""
    if not order.order_type.is_marketable:
        return want
    if within.units == 0:
        return (
            ReasonCode.PRICE_SLIPPAGE,
            f"nothing on the book at or better than the limit {format_units(order.limit)}",
        )
    if order.order_type is OrderType.FOK:
        available = step_down(within.units)
        if available < order.floor:
            return (
                ReasonCode.BOOK_LIQUIDITY,
                f"only {within} shares within the limit, minimum {format_units(order.floor)}",
            )
        if available < want:
            reasons.append(ReasonCode.BOOK_LIQUIDITY)
            return available
    return want

"""The paper broker: fills by walking the current real book, as the venue would.

An order waits `latency_ms` (the book moves meanwhile: the book is fetched *after* the
wait), then walks the book with `domain.book` (the same walk the policy's depth checks
use, so paper fills and the checks that allowed them never disagree), pays the market's
taker fee per level (`FeeSchedule.taker_fee`), and obeys the venue's rules: the tick, the
minimum size of resting orders, 1 pUSD for marketable BUYs, FOK fills completely or not
at all, FAK takes what is there, GTC takes what crosses and rests the rest. A resting
paper order fills as a maker (no fee) when a later book crosses its limit. Not enough
paper cash or shares: rejected like the venue (`InsufficientBalance`).

Trade ids are deterministic (`paper:<client id>:<n>`), so a restart that replays an
order's fills books them once. Paper state lives in memory: after a restart the paper
broker knows no order, and reconciliation closes the ones it finds open as not taken.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from polytail.domain.book import Level, OrderBook
from polytail.domain.fills import Side
from polytail.domain.ids import TokenId
from polytail.domain.ledger import Holding
from polytail.domain.market import Market
from polytail.domain.money import Price, Shares, Usdc, cost_of, proceeds_of
from polytail.domain.orders import OrderIntent, OrderState, OrderType
from polytail.domain.venue_rules import MIN_MARKETABLE_NOTIONAL, round_size_down
from polytail.execution.broker import OrderReport, Prepared, RedeemReport, TradeReport
from polytail.venue.errors import (
    BelowMinimumSize,
    InsufficientBalance,
    InvalidTick,
    NotFilled,
)


class BookSource(Protocol):
    async def book(self, token: TokenId) -> OrderBook: ...


class PaperAccount(Protocol):
    """What the paper venue knows of the account's balances (the ledger, in the engine)."""

    def cash(self) -> Usdc: ...

    def shares(self, token: TokenId) -> Shares: ...


@dataclass(frozen=True, slots=True)
class Take:
    """One level taken by a walk: shares at a price, and the fee for them."""

    shares: Shares
    price: Price
    fee: Usdc


@dataclass(slots=True)
class _Resting:
    intent: OrderIntent
    venue_order_id: str
    market: Market
    filled: Shares = Shares(0)
    notional: Usdc = Usdc(0)
    state: OrderState = OrderState.LIVE
    trades: list[TradeReport] = field(default_factory=list)

    @property
    def remaining(self) -> Shares:
        return self.intent.size - self.filled

    @property
    def reserve(self) -> Usdc:
        """pUSD a resting BUY still holds back (its unfilled part at the limit)."""
        if self.intent.side is Side.SELL or self.state.is_terminal:
            return Usdc(0)
        return cost_of(self.remaining, self.intent.limit_price)


def takes(
    book: OrderBook, side: Side, shares: Shares, market: Market, *, taker: bool
) -> list[Take]:
    """The levels a walk of `shares` took, best first, with the fee of each level.

    `shares` is what a `domain.book` walk filled: walks take whole levels before the
    last, so re-walking the same levels reconstructs the per-level fills exactly.
    """
    levels: tuple[Level, ...] = book.asks if side is Side.BUY else book.bids
    out: list[Take] = []
    left = shares
    for level in levels:
        if left.units <= 0:
            break
        take = level.size.min(left)
        fee = (
            market.fees.taker_fee(take, level.price)
            if taker
            else market.fees.maker_fee(take, level.price)
        )
        out.append(Take(take, level.price, fee))
        left = left - take
    return out


class PaperBroker:
    """Paper trading against a book source (live books, or a replay's books)."""

    name = "paper"

    def __init__(
        self,
        books: BookSource,
        account: PaperAccount,
        *,
        latency_ms: int = 250,
        now_ms: Callable[[], int],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.books = books
        self.account = account
        self.latency_ms = latency_ms
        self._now_ms = now_ms
        self._sleep = sleep
        self._orders: dict[str, _Resting] = {}
        self._resting: dict[str, _Resting] = {}  # the open ones, which hold cash or shares
        self._trades: list[TradeReport] = []
        self._reports: asyncio.Queue[TradeReport] = asyncio.Queue()

    # --- orders -----------------------------------------------------------------------------
    async def prepare(self, intent: OrderIntent, market: Market) -> Prepared:
        if not intent.limit_price.is_tradable(market.tick):
            raise InvalidTick(
                f"paper: price {intent.limit_price} is off the tick {market.tick} or outside "
                f"[{market.tick}, 1 - {market.tick}]"
            )
        if intent.size != round_size_down(intent.size):
            raise BelowMinimumSize(f"paper: size {intent.size} is not on the 0.01 share step")
        return Prepared(intent, f"paper-{intent.client_id}")

    async def submit(self, prepared: Prepared, market: Market) -> OrderReport:
        intent = prepared.intent
        if self.latency_ms:
            await self._sleep(self.latency_ms / 1000)
        book = await self.books.book(intent.token_id)
        minimum = market.min_size.max(book.min_size or Shares(0))
        tick = book.tick or market.tick
        if not intent.limit_price.is_tradable(tick):
            raise InvalidTick(f"paper: price {intent.limit_price} is off the book's tick {tick}")
        order = _Resting(intent, prepared.venue_order_id, market)
        taken, complete = (self._buy if intent.side is Side.BUY else self._sell)(
            intent, book, market
        )
        shares = Shares(sum(t.shares.units for t in taken))
        if intent.order_type is OrderType.FOK and not complete:
            raise NotFilled("paper: the FOK order could not be filled completely; killed")
        if intent.order_type is OrderType.FAK and shares.units == 0:
            raise NotFilled("paper: no orders found to match with the FAK order")
        rests = not intent.order_type.is_marketable and shares < intent.size
        if rests and intent.size < minimum:
            raise BelowMinimumSize(
                f"paper: resting size {intent.size} is below the market minimum {minimum}"
            )
        self._check_funds(intent, taken, rests)
        if taken:
            self._fill(order, taken)
        self._orders[order.venue_order_id] = order
        if rests:
            order.state = OrderState.PARTIAL if order.filled.units else OrderState.LIVE
            self._resting[order.venue_order_id] = order
        else:
            order.state = OrderState.MATCHED if order.filled >= intent.size else OrderState.CANCELED
        return self._report(order)

    @staticmethod
    def _spend(intent: OrderIntent) -> Usdc:
        return cost_of(intent.size, intent.limit_price).min(intent.max_spend)

    def _buy(self, intent: OrderIntent, book: OrderBook, market: Market) -> tuple[list[Take], bool]:
        if intent.order_type.is_marketable and self._spend(intent) < MIN_MARKETABLE_NOTIONAL:
            raise BelowMinimumSize(
                f"paper: a marketable BUY needs at least {MIN_MARKETABLE_NOTIONAL} pUSD"
            )
        # Like the venue (as the local exchange models it; UNCERTAIN on the venue): a BUY
        # takes `size` shares and pays less at better prices, never more shares.
        walk = book.buy_shares(intent.size, intent.limit_price)
        return takes(book, Side.BUY, walk.shares, market, taker=True), walk.complete

    def _sell(
        self, intent: OrderIntent, book: OrderBook, market: Market
    ) -> tuple[list[Take], bool]:
        walk = book.sell_shares(intent.size, intent.limit_price)
        return takes(book, Side.SELL, walk.shares, market, taker=True), walk.complete

    def _check_funds(self, intent: OrderIntent, taken: list[Take], rests: bool) -> None:
        if intent.side is Side.BUY:
            cost = sum(cost_of(t.shares, t.price).units + t.fee.units for t in taken)
            if rests:
                filled = Shares(sum(t.shares.units for t in taken))
                cost += cost_of(intent.size - filled, intent.limit_price).units
            reserved = sum(order.reserve.units for order in self._resting.values())
            available = self.account.cash().units - reserved
            if cost > available:
                raise InsufficientBalance(
                    f"paper: not enough balance: the order needs {Usdc(cost)} pUSD, "
                    f"{Usdc(max(0, available))} is available"
                )
            return
        selling = sum(
            order.remaining.units
            for order in self._resting.values()
            if order.intent.side is Side.SELL
            and order.intent.token_id == intent.token_id
            and not order.state.is_terminal
        )
        held = self.account.shares(intent.token_id).units - selling
        if intent.size.units > held:
            raise InsufficientBalance(
                f"paper: not enough balance: selling {intent.size} shares, "
                f"{Shares(max(0, held))} held"
            )

    def _fill(self, order: _Resting, taken: Sequence[Take]) -> list[TradeReport]:
        intent = order.intent
        shares = Shares(sum(t.shares.units for t in taken))
        price_of = cost_of if intent.side is Side.BUY else proceeds_of
        notional = Usdc(sum(price_of(t.shares, t.price).units for t in taken))
        fee = Usdc(sum(t.fee.units for t in taken))
        report = TradeReport(
            trade_id=f"paper:{intent.client_id}:{len(order.trades)}",
            venue_order_id=order.venue_order_id,
            token_id=intent.token_id,
            side=intent.side,
            shares=shares,
            notional=notional,
            fee=fee,
            at_ms=self._now_ms(),
        )
        order.filled = order.filled + shares
        order.notional = order.notional + notional
        order.trades.append(report)
        self._trades.append(report)
        return [report]

    def _report(self, order: _Resting) -> OrderReport:
        return OrderReport(order.venue_order_id, order.state, order.filled, tuple(order.trades))

    # --- resting orders ---------------------------------------------------------------------
    def on_book(self, book: OrderBook) -> list[TradeReport]:
        """A new book: resting orders its other side crosses fill as makers, at their limit.

        The engine calls this on book updates (live books, or a replay's); the fills are
        also delivered through `reports()`.
        """
        filled: list[TradeReport] = []
        for order in list(self._resting.values()):
            intent = order.intent
            if order.state.is_terminal or intent.token_id != book.token_id:
                continue
            limit = intent.limit_price
            crossing = Shares(
                sum(level.size.units for level in book.asks if level.price <= limit)
                if intent.side is Side.BUY
                else sum(level.size.units for level in book.bids if level.price >= limit)
            )
            take = crossing.min(order.remaining)
            if take.units <= 0:
                continue
            fee = order.market.fees.maker_fee(take, intent.limit_price)
            reports = self._fill(order, [Take(take, intent.limit_price, fee)])
            order.state = OrderState.MATCHED if order.remaining.units <= 0 else OrderState.PARTIAL
            for report in reports:
                self._reports.put_nowait(report)
            filled.extend(reports)
        return filled

    async def cancel(self, venue_order_id: str) -> bool:
        order = self._orders.get(venue_order_id)
        if order is None or order.state.is_terminal:
            return False
        order.state = OrderState.CANCELED
        self._resting.pop(venue_order_id, None)
        return True

    async def lookup(self, venue_order_id: str, market: Market) -> OrderReport | None:
        order = self._orders.get(venue_order_id)
        return None if order is None else self._report(order)

    async def trades_since(self, after_s: int) -> list[TradeReport]:
        return [trade for trade in self._trades if trade.at_ms >= after_s * 1000]

    async def open_orders(self) -> list[str]:
        return list(self._resting)

    async def cash(self) -> Usdc:
        return self.account.cash()

    async def redeem(self, market: Market, holdings: Sequence[Holding]) -> RedeemReport:
        """Paper redemption pays exactly the claims' value by the resolution."""
        mine = [h for h in holdings if h.condition_id == market.condition_id]
        payout = Usdc(sum(h.claim_value.units for h in mine))
        return RedeemReport(
            payout=payout,
            report_id=f"paper:redeem:{market.condition_id}",
            outcome_index=None,
            tokens=tuple(h.token_id for h in mine),
            held_before={h.token_id: h.position.shares for h in mine},
        )

    async def reports(self) -> AsyncIterator[TradeReport]:
        while True:
            yield await self._reports.get()

    async def close(self) -> None:
        return None

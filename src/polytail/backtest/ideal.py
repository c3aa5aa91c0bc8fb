"""The ideal venue: the reference run of a backtest (`--no-caps`).

The real venue trades sizes on a 0.01-share step, prices on a tick, and refuses orders
below its minimums; a leader's recorded fills are on none of these grids (their prices
are averages over the levels they took, e.g. 0.5400002392, and their sizes have six
decimals). Copying such a fill exactly is impossible there, so "would the copy earn what
the leader earned?" needs a venue where it is possible. That is this one:

- the real policy still decides copy or skip (filters, breakers, exits, mirror
  fractions), and the real order manager, ledger and store book the result;
- a copy's size is exact: `ratio x` the leader's shares for a BUY (ratio sizing; other
  sizing modes keep the policy's size), the exact mirror fraction of what is held for a
  SELL, to the base unit;
- its limit is the leader's price moved by the slippage tolerance, on the micro-unit
  grid (rounded so the leader's own price is always within it);
- skips that only the real venue's grid causes (`size_below_minimum`, `price_off_tick`,
  `book_liquidity`, and `price_slippage` decided on the tick) are re-decided on it;
- `IdealBroker` fills every copy completely at the price model's exact decimal price,
  booking notional = shares x price rounded half-even to the base unit. A leader's own
  amounts were whole base units and its reported price is their float ratio, so at zero
  slippage this recovers the leader's amount exactly.

With zero latency, zero slippage, ratio 1 and no caps the follower therefore reproduces
the leader's hold-to-resolution PnL (to the base unit per fill); every friction a
realistic run adds shows up as penalty against it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Final

from polytail.backtest.books import ReplayBooks
from polytail.backtest.pricing import PriceModel
from polytail.config.schema import PolytailConfig, SizingMode
from polytail.domain.decisions import Action, Decision, ReasonCode
from polytail.domain.fills import LeaderFill, Side
from polytail.domain.ids import Address, TokenId, copy_intent_key
from polytail.domain.ledger import Holding
from polytail.domain.market import Market
from polytail.domain.money import PRICE_ONE, SCALE, Price, Shares, Usdc
from polytail.domain.orders import OrderIntent, OrderState, OrderType
from polytail.execution.broker import OrderReport, Prepared, RedeemReport, TradeReport
from polytail.policy import Policy
from polytail.policy.accumulator import Accumulator
from polytail.policy.exits import mirror_shares
from polytail.policy.views import LeaderView, PortfolioView, Quote
from polytail.venue.errors import InsufficientBalance, NotFilled

_REGRID: Final = frozenset(
    {
        ReasonCode.SIZE_BELOW_MINIMUM,
        ReasonCode.PRICE_OFF_TICK,
        ReasonCode.BOOK_LIQUIDITY,
        ReasonCode.PRICE_SLIPPAGE,
    }
)
"""Skips decided on the real venue's grid, which the ideal venue decides again."""

_MICRO: Final = Decimal(1).scaleb(-6)
_BPS: Final = Decimal(10_000)


def ideal_limit(price: Decimal, tolerance_bps: int, side: Side) -> int:
    """The copy's limit on the micro-unit grid: the leader's price moved by the
    tolerance against us, rounded so the leader's own price is always inside."""
    if side is Side.BUY:
        exact = price * (_BPS + tolerance_bps) / _BPS
        return min(PRICE_ONE, int(exact.quantize(_MICRO, ROUND_CEILING).scaleb(6)))
    exact = price * (_BPS - tolerance_bps) / _BPS
    return max(0, int(exact.quantize(_MICRO, ROUND_FLOOR).scaleb(6)))


def exact_amount(shares: Shares, price: Decimal) -> Usdc:
    """shares x price to the base unit, half-even (see the module docstring)."""
    return Usdc(int((shares.to_decimal() * price).quantize(_MICRO, ROUND_HALF_EVEN).scaleb(6)))


class IdealPolicy(Policy):
    """The real policy, with copies sized and priced on the ideal venue's grid."""

    __slots__ = ("_ratios", "_tolerance_bps")

    def __init__(self, config: PolytailConfig, ratios: Mapping[Address, tuple[int, int]]) -> None:
        super().__init__(
            account=config.account,
            leaders=config.leaders,
            pricing=config.pricing,
            exits=config.exits,
            risk=config.risk,
        )
        self._ratios = dict(ratios)
        self._tolerance_bps = config.pricing.slippage_bps

    @classmethod
    def for_config(cls, config: PolytailConfig) -> IdealPolicy:
        ratios = {
            leader.address: leader.sizing.ratio.as_integer_ratio()
            for leader in config.leaders
            if leader.sizing.mode is SizingMode.RATIO
        }
        return cls(config, {Address(wallet): ratio for wallet, ratio in ratios.items()})

    def decide(
        self,
        fill: LeaderFill,
        quote: Quote | None,
        portfolio: PortfolioView,
        leader: LeaderView,
        *,
        now_ms: int,
        pending: Accumulator,
    ) -> tuple[Decision, Accumulator]:
        decision, pending = super().decide(
            fill, quote, portfolio, leader, now_ms=now_ms, pending=pending
        )
        if quote is None or quote.book is None:
            return decision, pending
        if not (decision.is_copy or decision.primary_reason in _REGRID):
            return decision, pending
        if fill.side is Side.BUY:
            ratio = self._ratios.get(fill.wallet)
            if ratio is None:  # other sizing modes keep the policy's own decision
                return decision, pending
            size = fill.size.units * ratio[0] // ratio[1]
        else:
            available = portfolio.available(fill.token_id, fill.wallet).units
            before = leader.position_before
            size, _ = mirror_shares(
                available, fill.size.units, None if before is None else before.units, step=1
            )
        return self._exact(decision, fill, quote, size, now_ms), pending

    def _exact(
        self, decision: Decision, fill: LeaderFill, quote: Quote, size: int, now_ms: int
    ) -> Decision:
        side = fill.side
        limit = ideal_limit(fill.price, self._tolerance_bps, side)
        book = quote.book
        assert book is not None
        touch = book.best_ask if side is Side.BUY else book.best_bid
        beyond = touch is None or (
            touch.micros > limit if side is Side.BUY else touch.micros < limit
        )
        if size <= 0 or limit <= 0 or beyond:
            code, detail = (
                (ReasonCode.SIZE_ZERO, "ideal venue: the exact copy is below one base unit")
                if size <= 0
                else (
                    ReasonCode.PRICE_SLIPPAGE,
                    f"ideal venue: nothing offered within the limit {Price(max(limit, 0))}",
                )
            )
            return Decision(
                account=decision.account,
                intent_key=decision.intent_key,
                action=Action.SKIP,
                reasons=(code,),
                decided_at_ms=now_ms,
                fill_id=fill.fill_id,
                leader=fill.wallet,
                token_id=fill.token_id,
                side=side,
                detail=detail,
                inputs=decision.inputs,
                condition_id=quote.market.condition_id,
            )
        shares = Shares(size)
        price = Price(limit)
        if side is Side.BUY:
            notional = Usdc(-(-size * limit // SCALE))
        else:
            notional = Usdc(size * limit // SCALE)
        reasons = (
            decision.reasons
            if decision.is_copy
            else ((ReasonCode.COPIED,) if side is Side.BUY else (ReasonCode.EXIT_MIRROR,))
        )
        return Decision(
            account=decision.account,
            intent_key=copy_intent_key(fill.fill_id),
            action=Action.COPY,
            reasons=reasons,
            decided_at_ms=now_ms,
            fill_id=fill.fill_id,
            leader=fill.wallet,
            token_id=fill.token_id,
            side=side,
            size=shares,
            limit_price=price,
            notional=notional,
            order_type=decision.order_type or OrderType.FOK,
            detail="ideal venue: exact copy (no share step, tick or minimum)",
            inputs=decision.inputs,
            condition_id=quote.market.condition_id,
            fee=quote.market.fees.taker_fee(shares, price),
            expires_at=None,
        )


class IdealBroker:
    """Fills every order completely at the price model's exact price, at once."""

    name = "ideal"

    def __init__(
        self,
        books: ReplayBooks,
        model: PriceModel,
        *,
        cash: Callable[[], Usdc],
        shares: Callable[[TokenId], Shares],
        now_ms: Callable[[], int],
    ) -> None:
        self.books = books
        self.model = model
        self._cash = cash
        self._shares = shares
        self._now_ms = now_ms
        self._orders: dict[str, OrderReport] = {}
        self._trades: list[TradeReport] = []

    async def prepare(self, intent: OrderIntent, market: Market) -> Prepared:
        return Prepared(intent, f"ideal-{intent.client_id}")

    async def submit(self, prepared: Prepared, market: Market) -> OrderReport:
        intent = prepared.intent
        reference = self.books.reference(intent.token_id)
        if reference is None:
            raise NotFilled(f"ideal: no traded price for token {intent.token_id} yet")
        price = self.model.price(reference, intent.side)
        limit = intent.limit_price.to_decimal()
        if (price > limit) if intent.side is Side.BUY else (price < limit):
            raise NotFilled(f"ideal: the model price {price} is beyond the limit {limit}")
        notional = exact_amount(intent.size, price)
        fee = market.fees.taker_fee(intent.size, Price.parse(price.quantize(_MICRO)))
        if intent.side is Side.BUY and (notional + fee) > self._cash():
            raise InsufficientBalance(f"ideal: not enough cash for {notional + fee} pUSD")
        if intent.side is Side.SELL and intent.size > self._shares(intent.token_id):
            raise InsufficientBalance(f"ideal: selling {intent.size} shares, fewer are held")
        trade = TradeReport(
            trade_id=f"ideal:{intent.client_id}:0",
            venue_order_id=prepared.venue_order_id,
            token_id=intent.token_id,
            side=intent.side,
            shares=intent.size,
            notional=notional,
            fee=fee,
            at_ms=self._now_ms(),
        )
        report = OrderReport(prepared.venue_order_id, OrderState.MATCHED, intent.size, (trade,))
        self._orders[prepared.venue_order_id] = report
        self._trades.append(trade)
        return report

    async def cancel(self, venue_order_id: str) -> bool:
        return False  # nothing ever rests

    async def lookup(self, venue_order_id: str, market: Market) -> OrderReport | None:
        return self._orders.get(venue_order_id)

    async def trades_since(self, after_s: int) -> list[TradeReport]:
        return [trade for trade in self._trades if trade.at_ms >= after_s * 1000]

    async def open_orders(self) -> list[str]:
        return []

    async def cash(self) -> Usdc:
        return self._cash()

    async def redeem(self, market: Market, holdings: Sequence[Holding]) -> RedeemReport:
        mine = [h for h in holdings if h.condition_id == market.condition_id]
        return RedeemReport(
            payout=Usdc(sum(h.claim_value.units for h in mine)),
            report_id=f"ideal:redeem:{market.condition_id}",
            tokens=tuple(h.token_id for h in mine),
        )

    async def reports(self) -> AsyncIterator[TradeReport]:
        return
        yield  # an async generator that ends at once: nothing ever rests

    async def close(self) -> None:
        return None

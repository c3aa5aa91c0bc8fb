"""The live broker: the venue through the venue layer's SDK adapter (`LiveTrading`).

Orders are signed first and their id (the EIP-712 hash) handed to the order manager,
which records it before the POST. Fills are read from the venue's own trade records
(`/data/trades`): the reply's trade ids right after placement, the order's associated
trades when it is looked up, and the account's trades in a window at reconciliation.
`reports()` follows the CLOB user channel (`trade` and `order` events) when one is
attached; polling is the safety net that always runs.

Booking rule: a fill is reported as final (`TradeReport`) only once its trade is
CONFIRMED. MATCHED, MINED and RETRYING trades are settling (`TradeSettling`, and counted
in `OrderReport.pending`); a FAILED trade was reversed by the venue and is never booked
(`OrderReport.failed`). So the ledger never holds a fill the venue can still take back.

Fees: the venue's trade records carry a fee *rate*, not the amount charged, so the fee
of a taker fill is computed from the market's fee curve per maker fill
(`FeeSchedule.taker_fee`, rounded up). UNCERTAIN: the venue's on-chain rounding; the
difference is at most one base unit per maker fill.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

import structlog

from polytail.domain.fills import Side
from polytail.domain.ids import Address, TokenId
from polytail.domain.ledger import Holding
from polytail.domain.market import Market, MarketVersion
from polytail.domain.money import Price, Rounding, Shares, Usdc, cost_of, proceeds_of
from polytail.domain.orders import OrderIntent, OrderState
from polytail.execution.broker import (
    BrokerReport,
    OrderNotice,
    OrderReport,
    Prepared,
    RedeemReport,
    StreamGap,
    TradeReport,
    TradeSettling,
)
from polytail.venue.clob_ws import UserChannel
from polytail.venue.errors import MalformedRow, NotFound, VenueError
from polytail.venue.normalize.user_events import order_event, own_trade
from polytail.venue.trading import LiveTrading, OwnTrade, VenueOrderStatus
from polytail.venue.ws import Reconnected

_ENDED: Final = frozenset({"CANCELED", "CANCELLED", "INVALID", "CANCELED_MARKET_RESOLVED"})
FINAL: Final = "CONFIRMED"
FAILED: Final = "FAILED"

log = structlog.get_logger(__name__)

MarketOf = Callable[[TokenId], Awaitable[Market]]


def trade_reports(trade: OwnTrade, market: Market, wallet: Address) -> list[TradeReport]:
    """Our fills in one venue trade: the taker's aggregate, or each maker order of ours."""
    at_ms = trade.matched_at * 1000
    if trade.trader_side.upper() == "TAKER":
        shares = notional = fee = 0
        for maker in trade.maker_fills:
            price = Price.parse(maker.price)
            amount = (cost_of if trade.side is Side.BUY else proceeds_of)(maker.shares, price)
            shares += maker.shares.units
            notional += amount.units
            fee += market.fees.taker_fee(maker.shares, price).units
        if shares == 0:  # no maker detail: the trade's own size and price
            price = Price.parse(trade.price)
            shares = trade.size.units
            amount = (cost_of if trade.side is Side.BUY else proceeds_of)(trade.size, price)
            notional = amount.units
            fee = market.fees.taker_fee(trade.size, price).units
        return [
            TradeReport(
                trade_id=trade.trade_id,
                venue_order_id=trade.taker_order_id,
                token_id=trade.token_id,
                side=trade.side,
                shares=Shares(shares),
                notional=Usdc(notional),
                fee=Usdc(fee),
                at_ms=at_ms,
            )
        ]
    reports = []
    for maker in trade.maker_fills:
        if maker.maker_address.lower() != wallet:
            continue
        price = Price.parse(maker.price)
        amount = (cost_of if maker.side is Side.BUY else proceeds_of)(maker.shares, price)
        reports.append(
            TradeReport(
                trade_id=f"{trade.trade_id}:{maker.order_id}",
                venue_order_id=maker.order_id,
                token_id=trade.token_id,
                side=maker.side,
                shares=maker.shares,
                notional=amount,
                fee=market.fees.maker_fee(maker.shares, price),
                at_ms=at_ms,
            )
        )
    return reports


@dataclass(frozen=True, slots=True)
class Fills:
    """One order's fills by settlement status."""

    final: tuple[TradeReport, ...] = ()
    pending: Shares = Shares(0)
    failed: Shares = Shares(0)


class LiveBroker:
    name = "live"

    def __init__(
        self,
        trading: LiveTrading,
        wallet: Address,
        market_of: MarketOf,
        *,
        user_channel: UserChannel | None = None,
    ) -> None:
        self.trading = trading
        self.wallet = Address(wallet.lower())
        self._market_of = market_of
        self.user_channel = user_channel
        self.malformed_events = 0

    async def prepare(self, intent: OrderIntent, market: Market) -> Prepared:
        signed = await self.trading.sign(intent, market)
        return Prepared(intent, self.trading.order_id(signed, market), signed)

    async def submit(self, prepared: Prepared, market: Market) -> OrderReport:
        from polymarket.models.clob.orders import SignedOrder  # noqa: PLC0415

        assert isinstance(prepared.payload, SignedOrder)
        placement = await self.trading.post(prepared.payload, prepared.intent.side)
        if placement.order_id != prepared.venue_order_id:
            # The id recorded before sending must be the venue's; say so loudly if not.
            raise AssertionError(
                f"venue order id {placement.order_id} differs from the signed order's hash "
                f"{prepared.venue_order_id}"
            )
        fills = await self._fills(placement.trade_ids, placement.order_id, market)
        intent, filled = prepared.intent, placement.filled
        if placement.status is VenueOrderStatus.DELAYED:
            state = OrderState.LIVE  # accepted; matching waits through the taker delay
        elif placement.status is VenueOrderStatus.LIVE:
            state = OrderState.PARTIAL if filled.units else OrderState.LIVE
        elif filled >= intent.size:
            state = OrderState.MATCHED
        else:  # matched in part: a FAK's rest is cancelled, a GTC's rest keeps resting
            state = OrderState.CANCELED if intent.order_type.is_marketable else OrderState.PARTIAL
        return OrderReport(
            placement.order_id, state, filled, fills.final, fills.pending, fills.failed
        )

    async def _fills(self, trade_ids: Sequence[str], order_id: str, market: Market) -> Fills:
        final: list[TradeReport] = []
        pending = failed = 0
        for trade_id in trade_ids:
            trade = await self.trading.trade(trade_id)
            if trade is None:
                continue
            mine = [
                r for r in trade_reports(trade, market, self.wallet) if r.venue_order_id == order_id
            ]
            if trade.status.upper() == FINAL:
                final.extend(mine)
            elif trade.status.upper() == FAILED:
                failed += sum(r.shares.units for r in mine)
            else:
                pending += sum(r.shares.units for r in mine)
        return Fills(tuple(final), Shares(pending), Shares(failed))

    async def cancel(self, venue_order_id: str) -> bool:
        outcome = await self.trading.cancel(venue_order_id)
        return venue_order_id in outcome.canceled

    async def lookup(self, venue_order_id: str, market: Market) -> OrderReport | None:
        try:
            order = await self.trading.get_order(venue_order_id)
        except NotFound:
            return None
        status = order.status.upper()
        filled = order.size_matched
        if status == "LIVE":
            state = OrderState.PARTIAL if filled.units else OrderState.LIVE
        elif status == "MATCHED" or (status not in _ENDED and filled >= order.original_size):
            state = OrderState.MATCHED if filled >= order.original_size else OrderState.CANCELED
        else:
            state = OrderState.CANCELED
        fills = await self._fills(order.trade_ids, venue_order_id, market)
        return OrderReport(venue_order_id, state, filled, fills.final, fills.pending, fills.failed)

    async def trades_since(self, after_s: int) -> list[TradeReport]:
        """Final (CONFIRMED) fills only: a settling one is found by its order's lookup later."""
        found: list[TradeReport] = []
        for trade in await self.trading.own_trades(after=after_s):
            if trade.status.upper() != FINAL:
                continue
            market = await self._market_of(trade.token_id)
            found.extend(trade_reports(trade, market, self.wallet))
        return found

    async def open_orders(self) -> list[str]:
        return [order.order_id for order in await self.trading.open_orders()]

    async def cash(self) -> Usdc:
        return Usdc((await self.trading.balance()).balance)

    async def redeem(self, market: Market, holdings: Sequence[Holding]) -> RedeemReport:
        """Redeem what the wallet still holds of `holdings`; the payout is measured, not trusted.

        The share balances are read before and after (re-read from chain by the CLOB), and
        the payout is the claim value of the shares this call burned, capped at what the
        ledger holds (a wallet's shares polytail did not buy are not its to book). pUSD
        balances are not used: a resting order filling meanwhile would move them. Nothing
        is sent when nothing is held, so a repeat is free and pays 0, as on chain.
        """
        mine = [h for h in holdings if h.condition_id == market.condition_id]
        before = {h.token_id: await self.trading.shares(market, h.token_id) for h in mine}
        tx = ""
        if market.version is MarketVersion.V2:  # the Router redeems one position at a time
            for holding in mine:
                if before[holding.token_id].is_positive:
                    tx = await self.trading.redeem(market, holding.token_id)
        elif any(held.is_positive for held in before.values()):
            tx = await self.trading.redeem(market)
        payout = 0
        if tx:
            for holding in mine:
                after = await self.trading.shares(market, holding.token_id)
                burned = (before[holding.token_id] - after).min(holding.position.shares)
                if burned.is_positive and holding.payout_per_share is not None:
                    payout += burned.scale_by(holding.payout_per_share, Rounding.DOWN).units
        return RedeemReport(
            payout=Usdc(payout),
            report_id=tx or f"nothing-held:{market.condition_id}",
            outcome_index=None,
            tokens=tuple(h.token_id for h in mine),
            held_before=before,
        )

    async def reports(self) -> AsyncIterator[BrokerReport]:
        """The user channel's events as broker reports (nothing without a channel).

        A `trade` event becomes final fills when CONFIRMED, else a `TradeSettling` per
        order of ours; an `order` event an `OrderNotice`; a reconnection a `StreamGap`. A
        malformed event is counted and skipped: polling books what it described.
        """
        if self.user_channel is None:
            await asyncio.Event().wait()  # no stream: polling does all the work
            return
        async for event in self.user_channel.events():
            if isinstance(event, Reconnected):
                yield StreamGap(f"user channel reconnected after {event.attempts} attempt(s)")
                continue
            try:
                kind = event.get("event_type")
                if kind == "trade":
                    for report in await self._trade_event(own_trade(event)):
                        yield report
                elif kind == "order":
                    notice = order_event(event)
                    yield OrderNotice(notice.order_id, notice.kind)
            except (MalformedRow, VenueError) as error:
                self.malformed_events += 1
                log.warning("user channel event skipped", error=str(error))

    async def _trade_event(self, trade: OwnTrade) -> list[BrokerReport]:
        market = await self._market_of(trade.token_id)
        mine = trade_reports(trade, market, self.wallet)
        status = trade.status.upper()
        if status == FINAL:
            return list(mine)
        return [TradeSettling(r.trade_id, r.venue_order_id, status, r.shares) for r in mine]

    async def close(self) -> None:
        if self.user_channel is not None:
            await self.user_channel.close()
        await self.trading.close()

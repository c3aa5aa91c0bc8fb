"""Scripted trades: make a wallet trade exactly as a test or scenario says, deterministically.

A scripted trade always goes through the matching engine against real resting orders, so
it is told like any other trade. When the book lacks the liquidity, the house market maker
first posts what is missing at the asked price (funding itself with pUSD or complete sets),
so "wallet W buys N shares of T at up to P" happens every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from polytail.sim.engine import Execution, OrderRejected, Side
from polytail.sim.exchange import Exchange
from polytail.sim.money import UNIT, cost, lot, text


@dataclass(frozen=True)
class ScriptedTrade:
    tx_hash: str
    order_id: str
    trade_id: str
    shares: int
    notional: int
    fee: int
    fills: int

    def describe(self) -> dict[str, object]:
        return {
            "transaction_hash": self.tx_hash,
            "order_id": self.order_id,
            "trade_id": self.trade_id,
            "shares": text(self.shares),
            "notional": text(self.notional),
            "fee": text(self.fee),
            "fills": self.fills,
        }


def provide_liquidity(exchange: Exchange, token: str, side: Side, shares: int, price: int) -> None:
    """Make sure a taker of `side` finds `shares` at `price` or better (house posts the rest).

    A house order that crosses resting orders of the other side trades with them first
    (they were better for the house); it repeats until enough rests for the scripted taker.
    """
    for _ in range(8):
        missing = shares - _available(exchange, token, side, price)
        if missing <= 0:
            return
        _post_house(exchange, token, side, missing, price)
    raise OrderRejected("could not provide liquidity for the scripted trade")


def _available(exchange: Exchange, token: str, side: Side, price: int) -> int:
    available = 0
    for maker in exchange.engine.books[token].opposite(side):
        if (side == "BUY" and maker.price > price) or (side == "SELL" and maker.price < price):
            break
        available += maker.remaining - maker.remaining % lot(maker.price)
    return available


def _post_house(exchange: Exchange, token: str, side: Side, missing: int, price: int) -> None:
    step = lot(price)
    market = exchange.market_for_token(token)
    missing = max(missing + -missing % step, market.min_size)
    missing += -missing % step
    house = exchange.house
    exchange.fund(house)
    _withdraw_crossing_quotes(exchange, token, side, price)
    if side == "BUY":  # the house sells: it needs the shares
        short = missing - exchange.engine.available(house, token)
        if short > 0:
            exchange.split(house, market.condition_id, short, fund=True)
        exchange.place(house, token, "SELL", missing, price)
    else:  # the house buys: it needs the pUSD
        needed = -(-missing * price // UNIT)
        short = needed - exchange.engine.available(house)
        if short > 0:
            exchange.fund(house, pusd=short)
        exchange.place(house, token, "BUY", missing, price)


def _withdraw_crossing_quotes(exchange: Exchange, token: str, side: Side, price: int) -> None:
    """The house re-quotes: its own orders that the new quote would cross are cancelled."""
    for order in exchange.engine.open_orders(exchange.house):
        if order.token_id != token or order.side != side:
            continue
        if (side == "BUY" and order.price >= price) or (side == "SELL" and order.price <= price):
            exchange.cancel([order.id], owner=order.owner)


def trade(
    exchange: Exchange,
    wallet: str,
    token: str,
    side: Side,
    shares: int,
    price: int,
    *,
    ensure_liquidity: bool = True,
    fund: bool = True,
    order_type: str = "FAK",
) -> ScriptedTrade:
    """Wallet takes `shares` of `token` at `price` or better, as one order."""
    market = exchange.market_for_token(token)
    if ensure_liquidity:
        provide_liquidity(exchange, token, side, shares, price)
    if fund:
        _fund_for(exchange, wallet, market.condition_id, token, side, shares, price)
    execution = exchange.place(wallet, token, side, shares, Fraction(price), order_type=order_type)
    return _describe(exchange, execution)


def burst(
    exchange: Exchange,
    wallet: str,
    token: str,
    side: Side,
    count: int,
    shares_each: int,
    price: int,
) -> list[ScriptedTrade]:
    """`count` fills of one wallet settled in a single transaction (an operator batch)."""
    provide_liquidity(exchange, token, side, shares_each * count, price)
    market = exchange.market_for_token(token)
    _fund_for(exchange, wallet, market.condition_id, token, side, shares_each * count, price)
    done = []
    with exchange.one_transaction():
        for _ in range(count):
            execution = exchange.place(
                wallet, token, side, shares_each, Fraction(price), order_type="FAK"
            )
            done.append(execution)
    return [_describe(exchange, execution) for execution in done]


def _fund_for(
    exchange: Exchange,
    wallet: str,
    condition_id: str,
    token: str,
    side: Side,
    shares: int,
    price: int,
) -> None:
    exchange.fund(wallet)
    market = exchange.market_for_token(token)
    if side == "BUY":
        fee_room = shares * int(market.fee_rate * UNIT) // UNIT + 1
        needed = cost(shares, price) + shares % 2 + fee_room
        short = needed - exchange.engine.available(exchange.wallets[wallet.lower()].address)
        if short > 0:
            exchange.fund(wallet, pusd=short)
    else:
        held = exchange.engine.available(exchange.wallets[wallet.lower()].address, token)
        if held < shares:
            exchange.split(wallet, condition_id, shares - held, fund=True)


def _describe(exchange: Exchange, execution: Execution) -> ScriptedTrade:
    if not execution.fills:
        raise OrderRejected("the scripted trade found nothing to match")
    trade_record = exchange.trades[-1]
    return ScriptedTrade(
        tx_hash=trade_record.tx_hash,
        order_id=execution.order.id,
        trade_id=trade_record.id,
        shares=execution.shares,
        notional=execution.notional,
        fee=execution.fee,
        fills=len(execution.fills),
    )

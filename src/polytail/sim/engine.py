"""The matching engine: books, balances and settlement, with no I/O and no clock.

Price-time priority per outcome token. Orders are quantities of shares at a limit price
(micros): a BUY rests its shares × price of pUSD, a SELL its shares. A taker fills at each
maker's price, so a BUY taker that finds better prices pays less (it never spends more
than it signed; whether the venue instead spends the whole signed amount and hands over
surplus shares is UNCERTAIN). Taker fees follow the market's fee curve and go to the
operator account. Every pUSD base unit is accounted for: minted collateral equals the sum
of wallet balances, the operator's fees and the collateral locked in each market.

Everything here is synchronous and deterministic; the exchange service around it adds
signatures, time, persistence of the tape and the network.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from polytail.sim.money import MAX_UINT256, UNIT, cost, lot, taker_fee, text

Side = Literal["BUY", "SELL"]
OrderType = Literal["GTC", "GTD", "FOK", "FAK"]
COLLATERAL = "pUSD"
OPERATOR = "operator"
GTD_SECURITY_SECONDS = 60
"""A GTD order lives until `expiration − 60 s` (the venue's one-minute security threshold)."""

FOK_NOT_FILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_NOT_FILLED = (
    "no orders found to match with FAK order. "
    "FAK orders are partially filled or killed if no match is found."
)
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
POST_ONLY_TYPE = "invalid post-only order: only GTC and GTD order types are allowed"
NOT_ENOUGH = "not enough balance / allowance"
MARKET_NOT_READY = "the market is not yet ready to process new orders"


class OrderRejected(Exception):
    """The venue refused an order; `message` is the venue's text."""

    def __init__(self, message: str, code: str = "unknown") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class LedgerError(ValueError):
    """An admin operation that would break the books (unknown market, not enough funds)."""


@dataclass
class MarketRules:
    condition_id: str
    token_ids: tuple[str, ...]
    tick: int
    min_size: int
    exchange: str
    fee_rate: Decimal = Decimal(0)
    fee_exponent: Decimal = Decimal(1)
    accepting: bool = True
    payouts: tuple[int, ...] | None = None
    """Per outcome, micro-pUSD paid per share once resolved (they sum to 10**6)."""

    @property
    def resolved(self) -> bool:
        return self.payouts is not None


@dataclass
class Order:
    id: str
    wallet: str
    token_id: str
    side: Side
    limit: Fraction
    """Limit price in micros; an integer for resting orders, any ratio for takers."""
    quantity: int
    order_type: OrderType = "GTC"
    post_only: bool = False
    expiration: int = 0
    owner: str = ""
    remaining: int = 0
    reserved: int = 0
    sequence: int = 0
    status: str = "LIVE"
    fills: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.remaining == 0:
            self.remaining = self.quantity

    @property
    def price(self) -> int:
        return int(self.limit)

    @property
    def matched(self) -> int:
        return self.quantity - self.remaining

    @property
    def asset(self) -> str:
        return COLLATERAL if self.side == "BUY" else self.token_id


@dataclass(frozen=True)
class Fill:
    maker_order: str
    maker_wallet: str
    maker_side: Side
    taker_order: str
    taker_wallet: str
    token_id: str
    price: int
    shares: int
    cost: int
    fee: int


@dataclass
class Execution:
    """What one accepted order did: its fills (as taker) and whether it rests."""

    order: Order
    fills: list[Fill]
    rested: bool
    canceled: list[Order] = field(default_factory=list)

    @property
    def shares(self) -> int:
        return sum(fill.shares for fill in self.fills)

    @property
    def notional(self) -> int:
        return sum(fill.cost for fill in self.fills)

    @property
    def fee(self) -> int:
        return sum(fill.fee for fill in self.fills)

    @property
    def making(self) -> int:
        """What the taker gave: pUSD (with fees) for a BUY, shares for a SELL."""
        return self.notional + self.fee if self.order.side == "BUY" else self.shares

    @property
    def taking(self) -> int:
        """What the taker received: shares for a BUY, pUSD net of fees for a SELL."""
        return self.shares if self.order.side == "BUY" else self.notional - self.fee


@dataclass
class _Level:
    orders: deque[Order] = field(default_factory=deque)


class Book:
    """One token's resting orders: price levels kept sorted, FIFO within a level."""

    def __init__(self, token_id: str) -> None:
        self.token_id = token_id
        self.bids: dict[int, deque[Order]] = {}
        self.asks: dict[int, deque[Order]] = {}
        self._bid_prices: list[int] = []  # ascending
        self._ask_prices: list[int] = []  # ascending
        self.last_trade: tuple[int, Side] | None = None

    def best_bid(self) -> int | None:
        return self._bid_prices[-1] if self._bid_prices else None

    def best_ask(self) -> int | None:
        return self._ask_prices[0] if self._ask_prices else None

    def add(self, order: Order) -> None:
        levels, prices = self._side(order.side)
        price = order.price
        if price not in levels:
            levels[price] = deque()
            bisect.insort(prices, price)
        levels[price].append(order)

    def remove(self, order: Order) -> None:
        levels, prices = self._side(order.side)
        queue = levels.get(order.price)
        if queue is None:
            return
        try:
            queue.remove(order)
        except ValueError:
            return
        if not queue:
            del levels[order.price]
            prices.pop(bisect.bisect_left(prices, order.price))

    def opposite(self, side: Side) -> Iterator[Order]:
        """Resting orders a taker of `side` meets, best price first, oldest first."""
        if side == "BUY":
            for price in list(self._ask_prices):
                yield from list(self.asks.get(price, ()))
        else:
            for price in reversed(list(self._bid_prices)):
                yield from list(self.bids.get(price, ()))

    def levels(self, side: Side) -> list[tuple[int, int]]:
        """(price, total shares) per level, best first."""
        levels, prices = self._side(side)
        ordered = reversed(prices) if side == "BUY" else iter(prices)
        return [(price, sum(order.remaining for order in levels[price])) for price in ordered]

    def orders(self) -> Iterator[Order]:
        for queue in (*self.bids.values(), *self.asks.values()):
            yield from queue

    def _side(self, side: Side) -> tuple[dict[int, deque[Order]], list[int]]:
        return (self.bids, self._bid_prices) if side == "BUY" else (self.asks, self._ask_prices)


def crosses(taker: Order, maker_price: int) -> bool:
    if taker.side == "BUY":
        return maker_price <= taker.limit
    return maker_price >= taker.limit


class Engine:
    """Books, balances, allowances, matching, resolution and redemption for all markets."""

    def __init__(self) -> None:
        self.markets: dict[str, MarketRules] = {}
        self.token_market: dict[str, str] = {}
        self.books: dict[str, Book] = {}
        self.orders: dict[str, Order] = {}
        self.balances: dict[str, dict[str, int]] = {}
        self.reserved: dict[str, dict[str, int]] = {}
        self.allowances: dict[tuple[str, str], int] = {}
        self.approvals: set[tuple[str, str]] = set()
        self.minted = 0
        self.pools: dict[str, int] = {}
        self.supply: dict[str, int] = {}
        self.redeemed: dict[tuple[str, str], int] = {}
        self._sequence = 0
        self._fill_count = 0

    # -- markets and funding ------------------------------------------------------------

    def add_market(self, rules: MarketRules) -> None:
        self.markets[rules.condition_id] = rules
        self.pools.setdefault(rules.condition_id, 0)
        for token in rules.token_ids:
            self.token_market[token] = rules.condition_id
            self.books.setdefault(token, Book(token))
            self.supply.setdefault(token, 0)

    def market_of(self, token_id: str) -> MarketRules:
        condition = self.token_market.get(token_id)
        if condition is None:
            raise LedgerError(f"unknown token {token_id}")
        return self.markets[condition]

    def balance(self, wallet: str, asset: str = COLLATERAL) -> int:
        return self.balances.get(wallet, {}).get(asset, 0)

    def available(self, wallet: str, asset: str = COLLATERAL) -> int:
        return self.balance(wallet, asset) - self.reserved.get(wallet, {}).get(asset, 0)

    def mint(self, wallet: str, amount: int) -> None:
        """Create pUSD for a wallet (the stand-in for wrapping USDC.e)."""
        if amount < 0:
            raise LedgerError("amount must be positive")
        self.minted += amount
        self._move(wallet, COLLATERAL, amount)

    def approve(self, wallet: str, spender: str, amount: int = MAX_UINT256) -> None:
        self.allowances[(wallet, spender.lower())] = amount

    def set_approval_for_all(self, wallet: str, operator: str, approved: bool = True) -> None:
        key = (wallet, operator.lower())
        if approved:
            self.approvals.add(key)
        else:
            self.approvals.discard(key)

    def allowance(self, wallet: str, spender: str) -> int:
        return self.allowances.get((wallet, spender.lower()), 0)

    def split(self, wallet: str, condition_id: str, amount: int) -> None:
        """Lock `amount` pUSD in a market and give the wallet that many of every outcome."""
        rules = self._market(condition_id)
        if rules.resolved:
            raise LedgerError(f"market {condition_id} is resolved")
        if self.available(wallet) < amount:
            raise LedgerError(f"{wallet} has {text(self.available(wallet))} pUSD available")
        self._move(wallet, COLLATERAL, -amount)
        self.pools[condition_id] += amount
        for token in rules.token_ids:
            self._move(wallet, token, amount)
            self.supply[token] += amount

    def merge(self, wallet: str, condition_id: str, amount: int) -> None:
        """Give back `amount` of every outcome for `amount` pUSD."""
        rules = self._market(condition_id)
        for token in rules.token_ids:
            if self.available(wallet, token) < amount:
                raise LedgerError(f"{wallet} holds too few of {token} to merge")
        for token in rules.token_ids:
            self._move(wallet, token, -amount)
            self.supply[token] -= amount
        self.pools[condition_id] -= amount
        self._move(wallet, COLLATERAL, amount)

    # -- orders -------------------------------------------------------------------------

    def place(self, order: Order, *, post_only_mode: bool = False, now: int = 0) -> Execution:
        """Validate, match and (for GTC/GTD) rest an order. Raises OrderRejected."""
        rules = self._validate(order, post_only_mode=post_only_mode, now=now)
        plan = self._plan(order)
        filled = sum(shares for _, shares in plan)
        if order.post_only and plan:
            raise OrderRejected(POST_ONLY_CROSSES, "post_only_would_cross")
        if order.order_type == "FOK" and filled < order.quantity:
            raise OrderRejected(FOK_NOT_FILLED, "fok_not_filled")
        if order.order_type == "FAK" and filled == 0:
            raise OrderRejected(FAK_NOT_FILLED, "fak_not_filled")
        fees = [
            taker_fee(shares, maker.price, rules.fee_rate, rules.fee_exponent)
            for maker, shares in plan
        ]
        if order.side == "SELL":
            fees = [
                min(fee, cost(shares, maker.price))
                for fee, (maker, shares) in zip(fees, plan, strict=True)
            ]
        rests = order.order_type in ("GTC", "GTD") and order.quantity - filled >= lot(order.price)
        self._check_funds(order, rules, plan, fees, rests)

        self._sequence += 1
        order.sequence = self._sequence
        self.orders[order.id] = order
        fills = [
            self._settle(order, maker, shares, fee)
            for (maker, shares), fee in zip(plan, fees, strict=True)
        ]
        book = self.books[order.token_id]
        if fills:
            book.last_trade = (fills[-1].price, order.side)
        if rests:
            order.reserved = self._reserve_for(order)
            self._reserve(order.wallet, order.asset, order.reserved)
            book.add(order)
            order.status = "LIVE"
        else:
            order.status = "MATCHED" if fills else "CANCELED"
        return Execution(order=order, fills=fills, rested=rests)

    def cancel(self, order_id: str, status: str = "CANCELED") -> Order | None:
        order = self.orders.get(order_id)
        if order is None or order.status != "LIVE":
            return None
        self.books[order.token_id].remove(order)
        self._release(order)
        order.status = status
        return order

    def open_orders(self, wallet: str | None = None) -> list[Order]:
        found = [order for order in self.orders.values() if order.status == "LIVE"]
        return [order for order in found if wallet is None or order.wallet == wallet]

    def expire(self, now: int) -> list[Order]:
        """Cancel GTD orders whose lifetime (expiration − 60 s) has passed."""
        due = [
            order
            for order in self.open_orders()
            if order.order_type == "GTD" and order.expiration - GTD_SECURITY_SECONDS <= now
        ]
        return [o for o in (self.cancel(order.id, "CANCELED_EXPIRED_ORDER") for order in due) if o]

    # -- resolution and redemption ----------------------------------------------------

    def resolve(self, condition_id: str, payouts: tuple[int, ...]) -> list[Order]:
        """Fix the payout per share of each outcome and cancel the market's open orders."""
        rules = self._market(condition_id)
        if len(payouts) != len(rules.token_ids) or sum(payouts) != UNIT or min(payouts) < 0:
            raise LedgerError("payouts must give one non-negative share per outcome summing to 1")
        if rules.resolved:
            raise LedgerError(f"market {condition_id} is already resolved")
        rules.payouts = payouts
        rules.accepting = False
        canceled = []
        for order in self.open_orders():
            if order.token_id in rules.token_ids:
                done = self.cancel(order.id, "CANCELED_MARKET_RESOLVED")
                if done:
                    canceled.append(done)
        return canceled

    def redeem(
        self,
        wallet: str,
        condition_id: str,
        *,
        outcome: int | None = None,
        amount: int | None = None,
    ) -> tuple[int, dict[str, int]]:
        """Burn the wallet's shares of a resolved market for pUSD; pays each share once.

        Without `outcome`, every outcome the wallet holds (CTF `redeemPositions` over all
        index sets: what is not held pays 0, it does not fail). With `outcome` and
        `amount`, exactly that many shares of one outcome (Protocol V2 `Router.redeem`),
        refused when the wallet holds fewer.
        """
        rules = self._market(condition_id)
        if rules.payouts is None:
            raise LedgerError(f"market {condition_id} is not resolved")
        if outcome is not None and not 0 <= outcome < len(rules.token_ids):
            raise LedgerError(f"outcome index {outcome} out of range")
        burned: dict[str, int] = {}
        paid = 0
        for index, (token, payout) in enumerate(zip(rules.token_ids, rules.payouts, strict=True)):
            if outcome is not None and index != outcome:
                continue
            held = self.balance(wallet, token)
            shares = held if amount is None else amount
            if shares > held:
                raise LedgerError(f"{wallet} holds {text(held)} of {token}, not {text(shares)}")
            if shares <= 0:
                continue
            burned[token] = shares
            paid += shares * payout // UNIT
            self._move(wallet, token, -shares)
            self.supply[token] -= shares
            key = (wallet, token)
            self.redeemed[key] = self.redeemed.get(key, 0) + shares
        if paid > self.pools[condition_id]:
            raise LedgerError("redemption exceeds the market's collateral")  # pragma: no cover
        self.pools[condition_id] -= paid
        self._move(wallet, COLLATERAL, paid)
        return paid, burned

    # -- invariants -----------------------------------------------------------------------

    def collateral_total(self) -> int:
        """Every pUSD base unit held anywhere: wallets, operator fees and market pools."""
        held = sum(assets.get(COLLATERAL, 0) for assets in self.balances.values())
        return held + sum(self.pools.values())

    def shares_total(self, token_id: str) -> int:
        return sum(assets.get(token_id, 0) for assets in self.balances.values())

    def crossed_books(self) -> list[str]:
        crossed = []
        for token, book in self.books.items():
            bid, ask = book.best_bid(), book.best_ask()
            if bid is not None and ask is not None and bid >= ask:
                crossed.append(token)
        return crossed

    # -- internals --------------------------------------------------------------------

    def _market(self, condition_id: str) -> MarketRules:
        rules = self.markets.get(condition_id)
        if rules is None:
            raise LedgerError(f"unknown market {condition_id}")
        return rules

    def _validate(self, order: Order, *, post_only_mode: bool, now: int) -> MarketRules:
        condition = self.token_market.get(order.token_id)
        if condition is None:
            raise OrderRejected(f"market not found for token id {order.token_id}", "unknown")
        rules = self.markets[condition]
        if not rules.accepting:
            raise OrderRejected(MARKET_NOT_READY, "market_not_ready")
        if order.id in self.orders:
            raise OrderRejected(f"order {order.id} is invalid. Duplicated.", "unknown")
        if order.quantity <= 0:
            raise OrderRejected("invalid order amounts", "unknown")
        if order.post_only and order.order_type not in ("GTC", "GTD"):
            raise OrderRejected(POST_ONLY_TYPE, "unknown")
        if post_only_mode and not order.post_only:
            raise OrderRejected(
                "post-only mode: only post-only orders and cancels are allowed", "post_only_mode"
            )
        if order.order_type == "GTD" and order.expiration - GTD_SECURITY_SECONDS <= now:
            raise OrderRejected("invalid expiration", "invalid_expiration")
        if order.order_type in ("GTC", "GTD"):
            price = order.limit
            if price.denominator != 1 or int(price) % rules.tick != 0:
                raise OrderRejected(
                    f"order {order.id} is invalid. Price ({_price_text(price)}) breaks minimum "
                    f"tick size rule: {text(rules.tick)}",
                    "unknown",
                )
            if not rules.tick <= int(price) <= UNIT - rules.tick:
                raise OrderRejected(
                    f"order {order.id} is invalid. Price ({_price_text(price)}) breaks minimum "
                    f"tick size rule: {text(rules.tick)}",
                    "unknown",
                )
            if order.quantity < rules.min_size:
                raise OrderRejected(
                    f"order {order.id} is invalid. Size ({text(order.quantity)}) lower than the "
                    f"minimum: {text(rules.min_size)}",
                    "unknown",
                )
            if order.quantity % lot(int(price)):
                raise OrderRejected("the trade contains rounding issues", "unknown")
        elif not 0 < order.limit <= UNIT:
            raise OrderRejected("invalid order amounts", "unknown")
        return rules

    def _plan(self, order: Order) -> list[tuple[Order, int]]:
        """The fills the order would get, as (maker, shares), without changing anything."""
        plan: list[tuple[Order, int]] = []
        wanted = order.quantity
        for maker in self.books[order.token_id].opposite(order.side):
            if wanted <= 0 or not crosses(order, maker.price):
                break
            step = lot(maker.price)
            shares = min(wanted, maker.remaining)
            shares -= shares % step
            if shares <= 0:
                break
            plan.append((maker, shares))
            wanted -= shares
        return plan

    def _check_funds(
        self,
        order: Order,
        rules: MarketRules,
        plan: list[tuple[Order, int]],
        fees: list[int],
        rests: bool,
    ) -> None:
        filled = sum(shares for _, shares in plan)
        if order.side == "BUY":
            needed = sum(cost(shares, maker.price) for maker, shares in plan) + sum(fees)
            if rests:
                needed += _ceil_cost(order.quantity - filled, order.price)
            have = self.available(order.wallet)
            allowed = self.allowance(order.wallet, rules.exchange)
            if have < needed or allowed < needed:
                short = "balance" if have < needed else "allowance"
                raise OrderRejected(
                    f"{NOT_ENOUGH}: the {short} is not enough -> balance: {max(have, 0)}, "
                    f"order amount: {needed}",
                    "not_enough_balance",
                )
        else:
            needed = order.quantity if rests or order.order_type != "FAK" else filled
            have = self.available(order.wallet, order.token_id)
            approved = (order.wallet, rules.exchange.lower()) in self.approvals
            if have < needed or not approved:
                short = "balance" if have < needed else "allowance"
                raise OrderRejected(
                    f"{NOT_ENOUGH}: the {short} is not enough -> balance: {max(have, 0)}, "
                    f"order amount: {needed}",
                    "not_enough_balance",
                )

    def _settle(self, taker: Order, maker: Order, shares: int, fee: int) -> Fill:
        rules = self.market_of(taker.token_id)
        price = maker.price
        notional = cost(shares, price)
        token = taker.token_id
        buyer, seller = (taker, maker) if taker.side == "BUY" else (maker, taker)
        # the maker's resting reserve pays its side of the fill
        released = notional if maker.side == "BUY" else shares
        maker.reserved -= released
        self._reserve(maker.wallet, maker.asset, -released)
        buyer_pays = notional + (fee if buyer is taker else 0)
        seller_gets = notional - (fee if seller is taker else 0)
        self._move(buyer.wallet, COLLATERAL, -buyer_pays)
        self._spend_allowance(buyer.wallet, rules.exchange, buyer_pays)
        self._move(buyer.wallet, token, shares)
        self._move(seller.wallet, token, -shares)
        self._move(seller.wallet, COLLATERAL, seller_gets)
        if fee:
            self._move(OPERATOR, COLLATERAL, fee)
        maker.remaining -= shares
        taker.remaining -= shares
        self._fill_count += 1
        fill_id = f"{taker.id}:{self._fill_count}"
        maker.fills.append(fill_id)
        taker.fills.append(fill_id)
        if maker.remaining < lot(maker.price):
            self.books[token].remove(maker)
            self._release(maker)
            maker.status = "MATCHED"
        return Fill(
            maker_order=maker.id,
            maker_wallet=maker.wallet,
            maker_side=maker.side,
            taker_order=taker.id,
            taker_wallet=taker.wallet,
            token_id=token,
            price=price,
            shares=shares,
            cost=notional,
            fee=fee,
        )

    def reverse(self, fill: Fill, *, taker_side: Side) -> None:
        """Undo a fill's balance moves (a trade whose settlement failed). The orders keep
        their matched sizes: what the venue does with them is not known."""
        buyer_is_taker = taker_side == "BUY"
        buyer = fill.taker_wallet if buyer_is_taker else fill.maker_wallet
        seller = fill.maker_wallet if buyer_is_taker else fill.taker_wallet
        buyer_paid = fill.cost + (fill.fee if buyer_is_taker else 0)
        seller_got = fill.cost - (0 if buyer_is_taker else fill.fee)
        if self.available(buyer, fill.token_id) < fill.shares:
            raise LedgerError(f"{buyer} no longer holds the shares of fill {fill.maker_order}")
        self._move(buyer, fill.token_id, -fill.shares)
        self._move(buyer, COLLATERAL, buyer_paid)
        self._move(seller, fill.token_id, fill.shares)
        self._move(seller, COLLATERAL, -seller_got)
        if fill.fee:
            self._move(OPERATOR, COLLATERAL, -fill.fee)

    def _reserve_for(self, order: Order) -> int:
        if order.side == "BUY":
            return _ceil_cost(order.remaining, order.price)
        return order.remaining

    def _release(self, order: Order) -> None:
        self._reserve(order.wallet, order.asset, -order.reserved)
        order.reserved = 0

    def _reserve(self, wallet: str, asset: str, amount: int) -> None:
        held = self.reserved.setdefault(wallet, {})
        held[asset] = held.get(asset, 0) + amount

    def _move(self, wallet: str, asset: str, amount: int) -> None:
        held = self.balances.setdefault(wallet, {})
        held[asset] = held.get(asset, 0) + amount

    def _spend_allowance(self, wallet: str, spender: str, amount: int) -> None:
        key = (wallet, spender.lower())
        current = self.allowances.get(key, 0)
        if current != MAX_UINT256:
            self.allowances[key] = current - amount


def _ceil_cost(shares: int, price: int) -> int:
    return -(-shares * price // UNIT)


def _price_text(price: Fraction) -> str:
    return text(int(price)) if price.denominator == 1 else f"{float(price) / UNIT:.6f}"

"""The exchange service: the engine plus time, identities, the tape, the chain and streams.

Every state change goes through here, so each fill is told once and the same way to every
reader: the matching engine settles it, then this module writes its chain logs, Data API
rows, RTDS frames, user-channel events and market-channel updates in one step.
"""

from __future__ import annotations

import asyncio
import base64
import heapq
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from polytail.sim import chain as chainlib
from polytail.sim.bus import Hub
from polytail.sim.chain import Chain, Transaction
from polytail.sim.contracts import REDEEMERS, ROUTER, adapter_for
from polytail.sim.engine import (
    OPERATOR,
    Engine,
    Execution,
    Fill,
    LedgerError,
    MarketRules,
    Order,
    OrderRejected,
    Side,
)
from polytail.sim.faults import Faults
from polytail.sim.markets import Event, Market
from polytail.sim.money import MAX_UINT256, UNIT, text
from polytail.sim.relayer import Relayer
from polytail.sim.signing import (
    CTF,
    EXCHANGE_V2,
    EXCHANGE_V3,
    NEG_RISK_EXCHANGE_V2,
    POSITION_MANAGER,
    PUSD,
    SignatureRejected,
    SignedOrder,
    verify_order,
)
from polytail.sim.tape import Holding, Profile, Row, Tape, rtds_payload
from polytail.sim.transactions import Transactions

EXCHANGES = (EXCHANGE_V2, NEG_RISK_EXCHANGE_V2, EXCHANGE_V3)
WALLET_KINDS = {"EOA": 0, "POLY_PROXY": 1, "GNOSIS_SAFE": 2, "DEPOSIT_WALLET": 3}
TAKER_ROWS = ("aggregate", "per_match")


class Clock:
    """Scenario time: manual (moves only when told) or real time times a speed factor."""

    def __init__(self, start: float, *, realtime: bool = False, speed: float = 1.0) -> None:
        self.start = start
        self.realtime = realtime
        self.speed = speed
        self._offset = 0.0
        self._origin = time.monotonic()

    def now(self) -> float:
        if self.realtime:
            return self.start + self._offset + (time.monotonic() - self._origin) * self.speed
        return self.start + self._offset

    def advance_to(self, when: float) -> None:
        if when > self.now():
            self._offset += when - self.now()


@dataclass
class ApiKey:
    key: str
    secret: str
    passphrase: str
    address: str
    nonce: int


@dataclass
class Wallet:
    address: str
    owner: str
    kind: str


@dataclass
class ClobTrade:
    id: str
    taker_order: Order
    fills: list[Fill]
    market: Market
    match_time: int
    tx_hash: str
    status: str = "MATCHED"
    last_update: int = 0
    owners: dict[str, str] = field(default_factory=dict)
    """order id -> API key of the order's owner."""


class Exchange:
    def __init__(
        self,
        *,
        seed: int,
        start_time: float,
        realtime: bool = False,
        speed: float = 1.0,
        settle_delays: tuple[float, float] | None = (0.02, 0.05),
        taker_rows: str = "aggregate",
    ) -> None:
        if taker_rows not in TAKER_ROWS:
            raise ValueError(f"taker_rows must be one of {TAKER_ROWS}, got {taker_rows!r}")
        self.seed = seed
        self.taker_rows = taker_rows
        self.clock = Clock(start_time, realtime=realtime, speed=speed)
        self.engine = Engine()
        self.chain = Chain(seed, int(start_time))
        self.tape = Tape()
        self.hub = Hub()
        self.faults = Faults(seed)
        self.markets: dict[str, Market] = {}
        self.token_markets: dict[str, Market] = {}
        self.events: dict[str, Event] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self.keys_by_owner: dict[tuple[str, int], str] = {}
        self.wallets: dict[str, Wallet] = {}
        self.trades: list[ClobTrade] = []
        self.trades_by_id: dict[str, ClobTrade] = {}
        self.volume: dict[str, int] = {}
        self.usdce: dict[str, int] = {}  # USDC.e not yet wrapped into pUSD, by wallet
        # what the venue says about itself: `GET /version`, and the geoblock answer
        self.clob_version = 2
        self.geoblock: dict[str, object] = {"blocked": False, "country": "ZZ", "region": ""}
        self.settle_delays = settle_delays
        self.engine_down_until = 0.0
        self.post_only_until = 0.0
        self.heartbeats: dict[str, float] = {}
        self.heartbeat_timeout = 15.0
        self._schedule: list[tuple[float, int, Callable[[], None]]] = []
        self._scheduled = 0
        self._batch: list[tuple[str, list[str], str]] | None = None
        self._batch_tx: str | None = None
        self._sequence = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self.house = self.named_wallet("house-market-maker")
        self.transactions = Transactions(self)
        self.relayer = Relayer(self)

    # -- identities ---------------------------------------------------------------------

    def named_wallet(self, name: str) -> str:
        """A deterministic wallet address for a scenario participant."""
        return to_checksum_address("0x" + keccak(f"{self.seed}|wallet|{name}".encode())[12:].hex())

    def register_wallet(
        self,
        address: str,
        *,
        owner: str | None = None,
        kind: str = "EOA",
        profile: Profile | None = None,
    ) -> Wallet:
        if kind not in WALLET_KINDS:
            raise LedgerError(f"wallet kind {kind!r} is not one of {list(WALLET_KINDS)}")
        wallet = Wallet(to_checksum_address(address), to_checksum_address(owner or address), kind)
        self.wallets[address.lower()] = wallet
        if profile is not None:
            self.tape.profiles[address.lower()] = profile
        return wallet

    def funder(self, address: str, signature_type: int) -> str | None:
        """The maker wallet an API key's address acts for with this signature type."""
        for wallet in self.wallets.values():
            if wallet.owner.lower() == address.lower() and WALLET_KINDS[wallet.kind] == (
                signature_type
            ):
                return wallet.address
        return address if signature_type == 0 else None

    def api_key_for(self, address: str, nonce: int, *, create: bool) -> ApiKey | None:
        existing = self.keys_by_owner.get((address.lower(), nonce))
        if existing is not None:
            return None if create else self.api_keys[existing]
        digest = keccak(f"{self.seed}|apikey|{address.lower()}|{nonce}".encode())
        raw = digest.hex()
        key = f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-a{raw[17:20]}-{raw[20:32]}"
        record = ApiKey(
            key=key,
            secret=base64.urlsafe_b64encode(keccak(digest + b"secret")).decode(),
            passphrase=keccak(digest + b"passphrase").hex()[:64],
            address=to_checksum_address(address),
            nonce=nonce,
        )
        self.api_keys[key] = record
        self.keys_by_owner[(address.lower(), nonce)] = key
        return record

    # -- markets ------------------------------------------------------------------------

    def add_market(self, market: Market) -> None:
        self.markets[market.condition_id] = market
        for token in market.token_ids:
            self.token_markets[token] = market
        self.volume.setdefault(market.condition_id, 0)
        self.engine.add_market(
            MarketRules(
                condition_id=market.condition_id,
                token_ids=tuple(market.token_ids),
                tick=market.tick,
                min_size=market.min_size,
                exchange=market.exchange,
                fee_rate=market.fee_rate,
                fee_exponent=market.fee_exponent,
            )
        )
        if market.event is not None:
            self.events[market.event.id] = market.event
            if market not in market.event.markets:
                market.event.markets.append(market)

    def market_for_token(self, token_id: str) -> Market:
        market = self.token_markets.get(token_id)
        if market is None:
            raise LedgerError(f"market not found for token id {token_id}")
        return market

    def price_of(self, token_id: str) -> int:
        """The token's current price: payout once resolved, else mid, else last, else 0.5."""
        market = self.market_for_token(token_id)
        if market.payouts is not None:
            return market.payouts[market.outcome_index(token_id)]
        book = self.engine.books[token_id]
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None:
            return (bid + ask) // 2
        if book.last_trade is not None:
            return book.last_trade[0]
        return bid if bid is not None else ask if ask is not None else UNIT // 2

    # -- time and scheduling ------------------------------------------------------------

    def now(self) -> int:
        return int(self.clock.now())

    def at(self, when: float, action: Callable[[], None]) -> None:
        self._scheduled += 1
        heapq.heappush(self._schedule, (when, self._scheduled, action))

    def run_due(self) -> int:
        """Run every scheduled action whose time has come; returns how many ran."""
        ran = 0
        while self._schedule and self._schedule[0][0] <= self.clock.now():
            _, _, action = heapq.heappop(self._schedule)
            action()
            ran += 1
        self._expire_orders()
        return ran

    def advance(self, seconds: float) -> int:
        """Move the clock forward, running each scheduled action at its own time."""
        target = self.clock.now() + seconds
        ran = 0
        while self._schedule and self._schedule[0][0] <= target:
            when, _, action = heapq.heappop(self._schedule)
            self.clock.advance_to(when)
            self._expire_orders()
            action()
            ran += 1
        self.clock.advance_to(target)
        self._expire_orders()
        return ran

    def next_due(self) -> float | None:
        return self._schedule[0][0] if self._schedule else None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    # -- funding (admin) ----------------------------------------------------------------

    def fund(self, wallet: str, *, pusd: int = 0, approve: bool = True) -> None:
        if wallet.lower() not in self.wallets:
            self.register_wallet(wallet)
        address = self.wallets[wallet.lower()].address
        if pusd:
            self.engine.mint(address, pusd)
        if approve:  # what the SDK's trading approvals grant
            for exchange in EXCHANGES:
                self.engine.approve(address, exchange, MAX_UINT256)
                self.engine.set_approval_for_all(address, exchange, True)
            for redeemer in REDEEMERS:
                self.engine.set_approval_for_all(address, redeemer, True)

    def split(self, wallet: str, condition_id: str, amount: int, *, fund: bool = False) -> None:
        address = self._address(wallet)
        if fund and self.engine.available(address) < amount:
            self.engine.mint(address, amount - self.engine.available(address))
        self.engine.split(address, condition_id, amount)
        self._non_trade_row(address, "SPLIT", self.markets[condition_id], amount)

    # -- orders -------------------------------------------------------------------------

    def submit(self, body: dict[str, Any], key: ApiKey) -> dict[str, Any]:
        """Handle one `POST /order` body for an authenticated key. Raises OrderRejected."""
        self.check_trading_open()
        signed, order_type, post_only, expiration = _parse_order(body)
        if body.get("owner") != key.key:
            raise OrderRejected("the order owner has to be the owner of the API KEY")
        market = self.token_markets.get(str(signed.token_id))
        if market is None:
            raise OrderRejected(f"market not found for token id {signed.token_id}", "not_found")
        try:
            order_hash, signer = verify_order(
                signed, version=market.domain_version, verifying_contract=market.exchange
            )
        except SignatureRejected as error:
            raise OrderRejected(str(error), "invalid_signature") from error
        self._check_identity(signed, signer, key)
        if signed.side == 0:
            price = Fraction(signed.maker_amount * UNIT, signed.taker_amount or 1)
            quantity = signed.taker_amount
        else:
            price = Fraction(signed.taker_amount * UNIT, signed.maker_amount or 1)
            quantity = signed.maker_amount
        if signed.maker_amount <= 0 or signed.taker_amount <= 0:
            raise OrderRejected("invalid order amounts")
        order = Order(
            id=order_hash,
            wallet=to_checksum_address(signed.maker),
            token_id=str(signed.token_id),
            side=signed.side_name,  # type: ignore[arg-type]
            limit=price,
            quantity=quantity,
            order_type=order_type,  # type: ignore[arg-type]
            post_only=post_only,
            expiration=expiration,
            owner=key.key,
        )
        execution = self.execute(order)
        return self.order_reply(execution)

    def check_trading_open(self) -> None:
        if time.monotonic() < self.engine_down_until:
            raise OrderRejected("matching engine is restarting", "restarting")

    def post_only_mode(self) -> bool:
        return time.monotonic() < self.post_only_until

    def execute(self, order: Order) -> Execution:
        execution = self.engine.place(order, post_only_mode=self.post_only_mode(), now=self.now())
        self._record(execution)
        return execution

    def place(
        self,
        wallet: str,
        token_id: str,
        side: Side,
        shares: int,
        price: int | Fraction,
        *,
        order_type: str = "GTC",
        post_only: bool = False,
        owner: str = "",
    ) -> Execution:
        """Place an order for a scripted wallet (no signature: the admin API's path)."""
        self._sequence += 1
        order_id = "0x" + keccak(f"{self.seed}|internal|{self._sequence}".encode()).hex()
        order = Order(
            id=order_id,
            wallet=self._address(wallet),
            token_id=token_id,
            side=side,
            limit=Fraction(price),
            quantity=shares,
            order_type=order_type,  # type: ignore[arg-type]
            post_only=post_only,
            owner=owner,
        )
        return self.execute(order)

    def order_reply(self, execution: Execution) -> dict[str, Any]:
        order = execution.order
        trade = self.trades[-1] if execution.fills else None
        return {
            "success": True,
            "errorMsg": "",
            "orderID": order.id,
            "status": "matched" if execution.fills else "live",
            "makingAmount": text(execution.making) if execution.fills else "",
            "takingAmount": text(execution.taking) if execution.fills else "",
            "tradeIDs": [trade.id] if trade else [],
            "transactionsHashes": [trade.tx_hash] if trade else [],
        }

    def cancel(self, order_ids: list[str], *, owner: str) -> dict[str, Any]:
        canceled: list[str] = []
        not_canceled: dict[str, str] = {}
        for order_id in order_ids:
            order = self.engine.orders.get(order_id)
            if order is None or order.owner != owner:
                not_canceled[order_id] = "order not found"
                continue
            if order.status != "LIVE":
                not_canceled[order_id] = "order can't be found - already canceled or matched"
                continue
            self.engine.cancel(order_id)
            self._after_cancel(order)
            canceled.append(order_id)
        return {"canceled": canceled, "not_canceled": not_canceled}

    def cancel_where(self, owner: str, *, market: str = "", asset: str = "") -> dict[str, Any]:
        ids = [
            order.id
            for order in self.engine.open_orders()
            if order.owner == owner
            and (not asset or order.token_id == asset)
            and (not market or self.token_markets[order.token_id].condition_id == market)
        ]
        return self.cancel(ids, owner=owner)

    # -- resolution and redemption ------------------------------------------------------

    def resolve(self, condition_id: str, payouts: tuple[int, ...]) -> None:
        market = self.markets.get(condition_id)
        if market is None:
            raise LedgerError(f"unknown market {condition_id}")
        canceled = self.engine.resolve(condition_id, payouts)
        market.payouts = payouts
        market.winner = payouts.index(max(payouts)) if max(payouts) == UNIT else None
        market.resolved_at = self.now()
        for order in canceled:
            self._after_cancel(order)
        frame = {
            "event_type": "market_resolved",
            "market": condition_id,
            "asset_ids": market.token_ids,
            "winning_asset_id": market.token_ids[market.winner]
            if market.winner is not None
            else "",
            "winning_outcome": market.outcomes[market.winner] if market.winner is not None else "",
            "timestamp": str(self.now() * 1000),
        }
        text_frame = json.dumps(frame)
        for token in market.token_ids:
            self.hub.market(token, text_frame)

    def redeem(self, wallet: str, condition_id: str) -> int:
        """A wallet redeems every outcome it holds of a resolved market (the admin path, as
        if it had called its collateral adapter or the Router itself); returns the pUSD paid."""
        address = self._address(wallet)
        market = self.markets[condition_id]
        before = self.engine.balance(address)
        tx_hash = self.chain.next_tx_hash()
        contract = ROUTER if market.version == "v2" else adapter_for(market.neg_risk)
        logs = self.settle_redemption(address, market, contract=contract, tx_hash=tx_hash)
        self.chain.mine(tx_hash, logs, self.now(), transaction=Transaction(address, contract))
        return int(self.engine.balance(address) - before)

    def settle_redemption(
        self,
        wallet: str,
        market: Market,
        *,
        contract: str,
        tx_hash: str,
        outcome: int | None = None,
        amount: int | None = None,
    ) -> list[tuple[str, list[str], str]]:
        """Burn the wallet's resolved shares for pUSD (each share pays once; what is no longer
        held pays 0), write the Data API `REDEEM` row, and return the transaction's logs."""
        paid, burned = self.engine.redeem(
            wallet, market.condition_id, outcome=outcome, amount=amount
        )
        when = self.now()
        ledger = POSITION_MANAGER if market.version == "v2" else CTF
        logs: list[tuple[str, list[str], str]] = []
        for token, shares in burned.items():
            self.tape.redeem(wallet, token, shares, shares * self.price_of(token) // UNIT, when)
            topics, data = chainlib.transfer_single(
                operator=contract,
                sender=wallet,
                receiver=chainlib.ZERO_ADDRESS,
                token_id=int(token),
                amount=shares,
            )
            logs.append((ledger, topics, data))
        if market.version != "v2":
            topics, data = chainlib.payout_redemption(
                redeemer=contract,
                collateral=PUSD,
                condition_id=market.condition_id,
                index_sets=[1 << i for i in range(len(market.token_ids))],
                payout=paid,
            )
            logs.append((CTF, topics, data))
        if paid:
            topics, data = chainlib.transfer(sender=contract, receiver=wallet, amount=paid)
            logs.append((PUSD, topics, data))
        if burned:
            self._sequence += 1
            self.tape.add(
                Row(self._sequence, wallet, "REDEEM", when, market, "", "", paid, paid, tx_hash)
            )
        return logs

    # -- reads --------------------------------------------------------------------------

    def holdings(self, wallet: str) -> list[Holding]:
        address = wallet.lower()
        found = []
        for (owner, token), basis in self.tape.basis.items():
            if owner != address or not token:
                continue
            market = self.token_markets.get(token)
            if market is None:
                continue
            held = self.engine.balance(
                self.wallets[address].address
                if address in self.wallets
                else to_checksum_address(wallet),
                token,
            )
            found.append(Holding(wallet, market, token, held, basis, self.price_of(token)))
        return found

    def ledger(self) -> dict[str, Any]:
        """Balances and the conservation figures tests check after every scenario."""
        engine = self.engine
        tokens = {
            token: {"supply": engine.supply[token], "held": engine.shares_total(token)}
            for token in engine.supply
        }
        return {
            "minted": engine.minted,
            "collateral_total": engine.collateral_total(),
            "fees": engine.balance(OPERATOR),
            "pools": dict(engine.pools),
            "tokens": tokens,
            "crossed_books": engine.crossed_books(),
            "balances": {wallet: dict(assets) for wallet, assets in engine.balances.items()},
            "reserved": {wallet: dict(assets) for wallet, assets in engine.reserved.items()},
            "conserved": engine.collateral_total() == engine.minted
            and all(entry["supply"] == entry["held"] for entry in tokens.values()),
        }

    # -- batching: several orders settled in one transaction ------------------------------

    @contextmanager
    def one_transaction(self) -> Iterator[str]:
        """Settle every match inside the block in a single transaction (an operator batch)."""
        self._batch = []
        self._batch_tx = self.chain.next_tx_hash()
        try:
            yield self._batch_tx
        finally:
            logs, tx_hash = self._batch, self._batch_tx
            self._batch, self._batch_tx = None, None
            if logs:
                self.chain.mine(tx_hash, logs, self.now())

    # -- internals ----------------------------------------------------------------------

    def _address(self, wallet: str) -> str:
        known = self.wallets.get(wallet.lower())
        if known is None:
            known = self.register_wallet(wallet)
        return known.address

    def _check_identity(self, signed: SignedOrder, signer: str, key: ApiKey) -> None:
        maker = signed.maker.lower()
        if signed.signature_type == 3:
            wallet = self.wallets.get(maker)
            if (
                signed.signer.lower() != maker
                or wallet is None
                or wallet.kind != "DEPOSIT_WALLET"
                or wallet.owner.lower() != signer.lower()
            ):
                raise OrderRejected("invalid signature", "invalid_signature")
            if signer.lower() != key.address.lower():
                raise OrderRejected("the order signer address has to be the address of the API KEY")
            return
        if signer.lower() != key.address.lower():
            raise OrderRejected("the order signer address has to be the address of the API KEY")
        if signed.signature_type == 0:
            if maker != signer.lower():
                raise OrderRejected("invalid signature", "invalid_signature")
            return
        wallet = self.wallets.get(maker)
        kind = "POLY_PROXY" if signed.signature_type == 1 else "GNOSIS_SAFE"
        if wallet is None or wallet.kind != kind or wallet.owner.lower() != signer.lower():
            raise OrderRejected("invalid signature", "invalid_signature")

    def _expire_orders(self) -> None:
        for order in self.engine.expire(self.now()):
            self._after_cancel(order)

    def _record(self, execution: Execution) -> None:
        order = execution.order
        market = self.token_markets[order.token_id]
        touched: set[tuple[str, int]] = set()
        if execution.fills:
            self._record_trade(execution, market)
            touched.update(
                ("SELL" if order.side == "BUY" else "BUY", fill.price) for fill in execution.fills
            )
        if execution.rested:
            touched.add((order.side, order.price))
            self._order_event(order, "PLACEMENT")
        if touched:
            self._price_changes(order.token_id, touched)

    def _record_trade(self, execution: Execution, market: Market) -> None:
        order = execution.order
        when = self.now()
        tx_hash = self._batch_tx or self.chain.next_tx_hash()
        token = int(order.token_id)
        logs: list[tuple[str, list[str], str]] = []
        contract = market.exchange
        for fill in execution.fills:
            maker_buys = fill.maker_side == "BUY"
            topics, data = chainlib.order_filled(
                order_hash=fill.maker_order,
                maker=fill.maker_wallet,
                taker=fill.taker_wallet,
                side=0 if maker_buys else 1,
                token_id=token,
                maker_amount=fill.cost if maker_buys else fill.shares,
                taker_amount=fill.shares if maker_buys else fill.cost,
                fee=0,
            )
            logs.append((contract, topics, data))
        taker_buys = order.side == "BUY"
        making = execution.notional if taker_buys else execution.shares
        taking = execution.shares if taker_buys else execution.notional
        topics, data = chainlib.order_filled(
            order_hash=order.id,
            maker=order.wallet,
            taker=contract,
            side=0 if taker_buys else 1,
            token_id=token,
            maker_amount=making,
            taker_amount=taking,
            fee=execution.fee,
        )
        logs.append((contract, topics, data))
        topics, data = chainlib.orders_matched(
            order_hash=order.id,
            maker=order.wallet,
            side=0 if taker_buys else 1,
            token_id=token,
            maker_amount=making,
            taker_amount=taking,
        )
        logs.append((contract, topics, data))
        if execution.fee:
            topics, data = chainlib.fee_charged(receiver=contract, amount=execution.fee)
            logs.append((contract, topics, data))
        if self._batch is not None:
            self._batch.extend(logs)
        else:
            self.chain.mine(tx_hash, logs, when)

        trade_id = _uuid(keccak(f"{self.seed}|trade|{order.id}|{len(self.trades)}".encode()))
        trade = ClobTrade(trade_id, order, execution.fills, market, when, tx_hash, last_update=when)
        trade.owners[order.id] = order.owner
        for fill in execution.fills:
            trade.owners[fill.maker_order] = self.engine.orders[fill.maker_order].owner
        self.trades.append(trade)
        self.trades_by_id[trade_id] = trade
        self.volume[market.condition_id] += execution.notional

        rows = [
            self._row(
                fill.maker_wallet,
                market,
                order.token_id,
                fill.maker_side,
                fill.shares,
                fill.cost,
                tx_hash,
                when,
                taker=False,
            )
            for fill in execution.fills
        ]
        # The taker's side: one row for the whole order, or one per match (which the
        # venue's Data API does is UNCERTAIN; the chain always sums the taking order).
        taker_parts = (
            [(fill.shares, fill.cost) for fill in execution.fills]
            if self.taker_rows == "per_match"
            else [(execution.shares, execution.notional)]
        )
        rows.extend(
            self._row(
                order.wallet,
                market,
                order.token_id,
                order.side,
                shares,
                notional,
                tx_hash,
                when,
                taker=True,
            )
            for shares, notional in taker_parts
        )
        for row in rows:
            self._publish_rtds(row)
        last = execution.fills[-1]
        self._publish_market(
            order.token_id,
            {
                "event_type": "last_trade_price",
                "asset_id": order.token_id,
                "market": market.condition_id,
                "price": text(last.price),
                "size": text(execution.shares),
                "side": order.side,
                "fee_rate_bps": "0",
                "transaction_hash": tx_hash,
                "timestamp": str(when * 1000),
            },
        )
        for fill in execution.fills:
            maker = self.engine.orders[fill.maker_order]
            self._order_event(maker, "UPDATE")
        self._trade_events(trade)
        self._settle_later(trade)

    def _row(
        self,
        wallet: str,
        market: Market,
        token: str,
        side: str,
        shares: int,
        usdc: int,
        tx_hash: str,
        when: int,
        *,
        taker: bool,
    ) -> Row:
        self._sequence += 1
        row = Row(
            self._sequence,
            to_checksum_address(wallet),
            "TRADE",
            when,
            market,
            token,
            side,
            shares,
            usdc,
            tx_hash,
            taker,
        )
        self.tape.add(row)
        return row

    def _non_trade_row(self, wallet: str, kind: str, market: Market, usdc: int) -> None:
        self._sequence += 1
        tx_hash = self.chain.next_tx_hash()
        self.chain.mine(tx_hash, [], self.now())
        self.tape.add(
            Row(self._sequence, wallet, kind, self.now(), market, "", "", usdc, usdc, tx_hash)
        )

    def _publish_rtds(self, row: Row) -> None:
        frame = json.dumps(
            {
                "topic": "activity",
                "type": "trades",
                "timestamp": row.timestamp * 1000,
                "payload": rtds_payload(row, self.tape.profile(row.wallet)),
            }
        )
        mutation = self.faults.rtds()
        if mutation == "duplicate":
            self.hub.rtds("activity", "trades", frame)
            self.hub.rtds("activity", "trades", frame)
        elif mutation == "reorder" and self._held_frame is None:
            self._held_frame = frame
            return
        else:
            self.hub.rtds("activity", "trades", frame)
        if self._held_frame is not None and self._held_frame != frame:
            held, self._held_frame = self._held_frame, None
            self.hub.rtds("activity", "trades", held)

    _held_frame: str | None = None

    def _publish_market(self, token: str, frame: dict[str, Any]) -> None:
        self.hub.market(token, json.dumps(frame))

    def book_levels(self, token: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """Levels as the venue lists them: bids ascending, asks descending (best last)."""
        book = self.engine.books[token]
        bids = [{"price": text(p), "size": text(s)} for p, s in reversed(book.levels("BUY"))]
        asks = [{"price": text(p), "size": text(s)} for p, s in reversed(book.levels("SELL"))]
        return bids, asks

    def book_snapshot(self, token: str) -> dict[str, Any]:
        market = self.market_for_token(token)
        bids, asks = self.book_levels(token)
        book = self.engine.books[token]
        digest = keccak(json.dumps([bids, asks]).encode()).hex()[:40]
        return {
            "market": market.condition_id,
            "asset_id": token,
            "timestamp": str(int(self.clock.now() * 1000)),
            "hash": digest,
            "bids": bids,
            "asks": asks,
            "min_order_size": text(market.min_size),
            "tick_size": text(market.tick),
            "neg_risk": market.neg_risk,
            "last_trade_price": text(book.last_trade[0]) if book.last_trade else "",
        }

    def _price_changes(self, token: str, touched: set[tuple[str, int]]) -> None:
        if not self.hub.subscribers["market"]:
            return
        market = self.token_markets[token]
        book = self.engine.books[token]
        levels = {"BUY": dict(book.levels("BUY")), "SELL": dict(book.levels("SELL"))}
        best_bid, best_ask = book.best_bid(), book.best_ask()
        changes = [
            {
                "asset_id": token,
                "price": text(price),
                "size": text(levels[side].get(price, 0)),
                "side": side,
                "hash": "",
                "best_bid": text(best_bid) if best_bid is not None else "0",
                "best_ask": text(best_ask) if best_ask is not None else "1",
            }
            for side, price in sorted(touched)
        ]
        self._publish_market(
            token,
            {
                "event_type": "price_change",
                "market": market.condition_id,
                "price_changes": changes,
                "timestamp": str(int(self.clock.now() * 1000)),
            },
        )

    def _after_cancel(self, order: Order) -> None:
        self._order_event(order, "CANCELLATION")
        self._price_changes(order.token_id, {(order.side, order.price)})

    def open_order_view(self, order: Order) -> dict[str, Any]:
        market = self.token_markets[order.token_id]
        return {
            "id": order.id,
            "status": order.status,
            "owner": order.owner,
            "maker_address": order.wallet,
            "market": market.condition_id,
            "asset_id": order.token_id,
            "side": order.side,
            "original_size": text(order.quantity),
            "size_matched": text(order.matched),
            "price": text(order.price),
            "outcome": market.outcomes[market.outcome_index(order.token_id)],
            "expiration": str(order.expiration),
            "order_type": order.order_type,
            "associate_trades": [trade.id for trade in self.trades if order.id in trade.owners],
            "created_at": self.now(),
        }

    def _order_event(self, order: Order, kind: str) -> None:
        if not order.owner or not self.hub.subscribers["user"]:
            return
        view = self.open_order_view(order)
        view.update({"event_type": "order", "type": kind, "timestamp": str(self.now() * 1000)})
        self.hub.user(order.owner, view["market"], json.dumps(view))

    def trade_view(self, trade: ClobTrade, viewer: str | None = None) -> dict[str, Any]:
        order = trade.taker_order
        market = trade.market
        outcome_of = market.outcomes[market.outcome_index(order.token_id)]
        executed = sum(fill.shares for fill in trade.fills)
        notional = sum(fill.cost for fill in trade.fills)
        maker_orders = [
            {
                "order_id": fill.maker_order,
                "owner": trade.owners.get(fill.maker_order, ""),
                "maker_address": fill.maker_wallet,
                "matched_amount": text(fill.shares),
                "price": text(fill.price),
                "fee_rate_bps": "0",
                "asset_id": fill.token_id,
                "side": fill.maker_side,
                "outcome": outcome_of,
                "outcome_index": market.outcome_index(order.token_id),
            }
            for fill in trade.fills
        ]
        is_taker = viewer is None or trade.owners.get(order.id) == viewer
        return {
            "id": trade.id,
            "taker_order_id": order.id,
            "market": market.condition_id,
            "asset_id": order.token_id,
            "side": order.side,
            "size": text(executed),
            "fee_rate_bps": text(_fee_bps(trade)) if executed else "0",
            "price": text(notional * UNIT // executed) if executed else "0",
            "status": trade.status,
            "match_time": str(trade.match_time),
            "last_update": str(trade.last_update),
            "outcome": outcome_of,
            "bucket_index": 0,
            "owner": trade.owners.get(order.id, "") if is_taker else viewer or "",
            "maker_address": order.wallet,
            "transaction_hash": trade.tx_hash,
            "trader_side": "TAKER" if is_taker else "MAKER",
            "maker_orders": maker_orders,
        }

    def _trade_events(self, trade: ClobTrade) -> None:
        if not self.hub.subscribers["user"]:
            return
        for owner in dict.fromkeys(owner for owner in trade.owners.values() if owner):
            view = self.trade_view(trade, owner)
            view.update(
                {
                    "event_type": "trade",
                    "trade_owner": owner,
                    "matchtime": view["match_time"],
                    "timestamp": str(self.now() * 1000),
                }
            )
            self.hub.user(owner, trade.market.condition_id, json.dumps(view))

    def _settle_later(self, trade: ClobTrade) -> None:
        """MATCHED → MINED → CONFIRMED on the configured delays (seconds of real time).

        Zero delays confirm at once (the events still go out, in order); `None` leaves the
        trade MATCHED until the admin API settles or fails it (`settle_trade`,
        `fail_trade`), so a test decides exactly when a fill becomes final.
        """
        if self.settle_delays is None:
            return
        mined, confirmed = self.settle_delays
        if self._loop is None or (mined <= 0 and confirmed <= 0):
            self.settle_trade(trade.id, "CONFIRMED")
            return
        self._loop.call_later(mined, self._advance_trade, trade, "MINED")
        self._loop.call_later(max(confirmed, mined), self._advance_trade, trade, "CONFIRMED")

    _SETTLING = ("MATCHED", "MINED", "CONFIRMED")

    def _advance_trade(self, trade: ClobTrade, status: str) -> None:
        """Move a settling trade forward one status at a time (never back, never past FAILED)."""
        if trade.status not in self._SETTLING:
            return
        for step in self._SETTLING[self._SETTLING.index(trade.status) + 1 :]:
            if self._SETTLING.index(step) > self._SETTLING.index(status):
                break
            trade.status = step
            trade.last_update = self.now()
            self._trade_events(trade)

    def settle_trade(self, trade_id: str, status: str = "CONFIRMED") -> ClobTrade:
        """Advance a trade to MINED or CONFIRMED, telling each step on the user channel."""
        trade = self._trade(trade_id)
        if status not in ("MINED", "CONFIRMED"):
            raise LedgerError(f"a trade settles to MINED or CONFIRMED, not {status!r}")
        if trade.status not in self._SETTLING:
            raise LedgerError(f"trade {trade_id} is {trade.status}: it cannot settle")
        self._advance_trade(trade, status)
        return trade

    def fail_trade(self, trade_id: str) -> ClobTrade:
        """A trade whose settlement failed: RETRYING, then FAILED, and every balance it moved
        moves back (the venue reverses failed trades). Only before CONFIRMED.

        UNCERTAIN: what the venue does with the orders' matched sizes; here they stay as
        matched (the venue's order records keep the failed trade among `associate_trades`),
        and the chain logs and Data API rows already written stay too.
        """
        trade = self._trade(trade_id)
        if trade.status not in ("MATCHED", "MINED"):
            raise LedgerError(f"trade {trade_id} is {trade.status}: only a settling trade fails")
        for fill in trade.fills:
            self.engine.reverse(fill, taker_side=trade.taker_order.side)
        for status in ("RETRYING", "FAILED"):
            trade.status = status
            trade.last_update = self.now()
            self._trade_events(trade)
        return trade

    def _trade(self, trade_id: str) -> ClobTrade:
        trade = self.trades_by_id.get(trade_id)
        if trade is None:
            raise LedgerError(f"unknown trade {trade_id}")
        return trade


def _fee_bps(trade: ClobTrade) -> int:
    rate = trade.market.fee_rate
    return int(rate * 10_000 * UNIT)


def _uuid(digest: bytes) -> str:
    raw = digest.hex()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"


def _parse_order(body: dict[str, Any]) -> tuple[SignedOrder, str, bool, int]:
    """The signed order and its options from a `POST /order` body, or 'Invalid order payload'."""
    try:
        raw = body["order"]
        side = raw["side"]
        if side not in ("BUY", "SELL"):
            raise ValueError(side)
        signed = SignedOrder(
            salt=int(raw["salt"]),
            maker=to_checksum_address(raw["maker"]),
            signer=to_checksum_address(raw["signer"]),
            token_id=int(raw["tokenId"]),
            maker_amount=int(raw["makerAmount"]),
            taker_amount=int(raw["takerAmount"]),
            side=0 if side == "BUY" else 1,
            signature_type=int(raw["signatureType"]),
            timestamp=int(raw["timestamp"]),
            metadata=bytes.fromhex(str(raw.get("metadata", "0x" + "00" * 32))[2:]),
            builder=bytes.fromhex(str(raw.get("builder", "0x" + "00" * 32))[2:]),
            signature=bytes.fromhex(str(raw["signature"]).removeprefix("0x")),
        )
        order_type = str(body.get("orderType", "GTC"))
        if order_type not in ("GTC", "GTD", "FOK", "FAK"):
            raise ValueError(order_type)
        expiration = int(raw.get("expiration", "0") or 0)
        post_only = bool(body.get("postOnly", False))
        if len(signed.metadata) != 32 or len(signed.builder) != 32:
            raise ValueError("bytes32")
    except (KeyError, TypeError, ValueError) as error:
        raise OrderRejected("Invalid order payload", "invalid_payload") from error
    if order_type != "GTD" and expiration != 0:
        raise OrderRejected("invalid expiration", "invalid_expiration")
    return signed, order_type, post_only, expiration

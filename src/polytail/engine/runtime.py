"""The runtime: builds one engine from `PolytailConfig` and runs it until told to stop.

Composition is explicit so every edge can be swapped: `Edges` holds where fills come from,
who fills our orders, where markets and books come from, and what time it is. `build_paper`
and `build_live` make the edges for a run against the venue (or the local exchange);
a backtest builds its own (replay fills, replay books, a paper broker on them, a
`SimulatedClock`) and calls `Engine(...)` directly.

    engine = await build_paper(config, fills=source)          # or build_live(config, secrets, ...)
    await engine.run(stop)                                     # until stop.set()

`run` reconciles before the first order, then runs three loops on one event loop: the
intake (each leader fill through the pipeline), the broker's fill reports, and the
housekeeping pass (order polling and time limits, paper book crossings, exit rules,
marks, resolutions and redemptions). One lock serialises them, so an order is never
changed by two of them at once. Shutdown stops the intake, cancels or leaves resting
orders (`execution.on_shutdown`), and closes the broker, the venue clients and the store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from polytail.config.redaction import REDACTOR
from polytail.config.schema import Mode, PolytailConfig, SizingMode
from polytail.config.secrets import Secret, Secrets
from polytail.domain.book import OrderBook
from polytail.domain.fills import LeaderFill
from polytail.domain.ids import AccountId, Address, TokenId, account_id, address
from polytail.domain.ledger import CashKind, CashMovement
from polytail.domain.market import Market
from polytail.domain.money import Price, Rounding, Shares, Usdc, to_units
from polytail.domain.orders import OrderIntent
from polytail.engine.clock import WallClock
from polytail.engine.events import Component, EngineError, EventBus
from polytail.engine.pipeline import (
    BookSource,
    EngineClock,
    LeaderSource,
    MarketSource,
    Pipeline,
)
from polytail.execution.broker import Broker
from polytail.execution.live import LiveBroker
from polytail.execution.order_manager import OrderManager
from polytail.execution.paper import PaperBroker
from polytail.policy import Policy
from polytail.portfolio.ledger import Ledger
from polytail.store import Store
from polytail.venue.books import BookCache
from polytail.venue.clients import VenueClients
from polytail.venue.clob_ws import UserChannel
from polytail.venue.data_api import DataApiV1
from polytail.venue.trading import ApiCredentials, LiveTrading

log = structlog.get_logger(__name__)
LEADER_VALUE_MAX_AGE_MS = 10 * 60 * 1000  # bankroll sizing: a leader's value is re-read this often


@dataclass
class Edges:
    """Everything the engine talks to outside itself."""

    fills: AsyncIterator[LeaderFill]
    broker: Broker
    markets: MarketSource
    books: BookSource
    clock: EngineClock
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    leaders: LeaderSource | None = None  # leaders' positions and values (None: from fills only)


class FreshBooks:
    """A `BookSource` over the book cache: live books, refetched when older than `max_age_s`."""

    def __init__(self, cache: BookCache, max_age_s: float = 2.0) -> None:
        self.cache = cache
        self.max_age_s = max_age_s

    async def book(self, token: TokenId) -> OrderBook:
        return await self.cache.book(token, max_age_s=self.max_age_s)


class DataApiLeaders:
    """Leaders' positions and portfolio values from the Data API (v1 `/positions`, `/value`)."""

    def __init__(self, data: DataApiV1) -> None:
        self.data = data

    async def positions(self, leader: Address) -> dict[TokenId, Shares]:
        rows, rejects = await self.data.positions(leader)
        if rejects:
            log.warning("leader positions: rows skipped", leader=leader, count=len(rejects))
        held: dict[TokenId, Shares] = {}
        for row in rows:
            held[row.token_id] = held.get(row.token_id, Shares(0)) + row.size
        return held

    async def value(self, leader: Address) -> Usdc:
        return Usdc(to_units(await self.data.value(leader), Rounding.DOWN))


class LedgerAccount:
    """The paper venue's view of balances: the account's own ledger."""

    def __init__(self, orders: Callable[[], OrderManager]) -> None:
        self._orders = orders

    def cash(self) -> Usdc:
        return self._orders().ledger.cash

    def shares(self, token: TokenId) -> Shares:
        holding = self._orders().ledger.holding(token)
        return Shares(0) if holding is None else holding.position.shares


class Engine:
    def __init__(
        self,
        config: PolytailConfig,
        store: Store,
        edges: Edges,
        *,
        bus: EventBus | None = None,
        housekeeping_s: float = 1.0,
    ) -> None:
        self.config = config
        self.account: AccountId = account_id(config.account)
        self.store = store
        self.edges = edges
        self.bus = bus or EventBus()
        self.housekeeping_s = housekeeping_s
        with store.read() as tx:
            snapshot = tx.ledger.load(self.account)
        markets = edges.markets

        async def market_of(intent: OrderIntent) -> Market:
            return await markets.get(intent.condition_id)

        self.orders = OrderManager(
            account=self.account,
            store=store,
            broker=edges.broker,
            ledger=Ledger.restore(snapshot),
            market_of=market_of,
            clock=edges.clock,
            reply_timeout_s=config.execution.reply_timeout_s,
            reconcile_window_s=config.execution.reconcile_window_s,
        )
        self.pipeline = Pipeline(
            account=self.account,
            policy=Policy.from_config(config),
            store=store,
            orders=self.orders,
            markets=edges.markets,
            books=edges.books,
            clock=edges.clock,
            bus=self.bus,
            redeem=config.execution.redeem,
            leaders=edges.leaders,
        )
        self.lock = asyncio.Lock()
        self.ready = asyncio.Event()
        self._last_redeem_ms = 0

    # --- running --------------------------------------------------------------------------
    async def start(self, *, opening_cash: Usdc | None = None) -> None:
        """Book the opening balance on a fresh ledger, then reconcile and build the views."""
        if self.orders.ledger.seq == 0:
            amount = opening_cash
            if amount is None and self.config.mode is Mode.PAPER:
                amount = Usdc.parse(self.config.paper.starting_cash_usdc)
            if amount is None:
                amount = await self.edges.broker.cash()
            if amount.is_positive:
                key = f"{self.config.mode.value}:start"
                event = CashMovement(
                    self.account, key, CashKind.DEPOSIT, amount, self.edges.clock.now_ms()
                )
                self.orders.ledger.apply(event, persist=self.store.record)
        async with self.lock:
            await self.pipeline.start()
            for leader in self.watched():
                await self.pipeline.watch_leader(leader, value=leader in self.bankroll_leaders())
        self.ready.set()

    def watched(self) -> list[Address]:
        return [address(leader.address) for leader in self.config.leaders if leader.enabled]

    def bankroll_leaders(self) -> set[Address]:
        """Leaders sized by bankroll: their portfolio value is fetched and kept fresh."""
        return {
            address(leader.address)
            for leader in self.config.leaders
            if leader.enabled and leader.sizing.mode is SizingMode.BANKROLL
        }

    async def run(self, stop: asyncio.Event, *, opening_cash: Usdc | None = None) -> None:
        await self.start(opening_cash=opening_cash)
        tasks = [
            asyncio.create_task(self._intake(), name="intake"),
            asyncio.create_task(self._reports(), name="reports"),
            asyncio.create_task(self._housekeeping(), name="housekeeping"),
        ]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self.shutdown()

    async def _intake(self) -> None:
        async for fill in self.edges.fills:
            async with self.lock:
                try:
                    await self.pipeline.handle(fill)
                except Exception as error:  # the fill stays undecided: a re-delivery retries
                    log.exception("fill failed", fill_id=fill.fill_id)
                    self.bus.publish(EngineError(Component.PIPELINE, str(error), self.now_ms()))

    async def _reports(self) -> None:
        async for report in self.edges.broker.reports():
            async with self.lock:
                try:
                    await self.orders.on_report(report)
                except Exception as error:  # polling books it later
                    log.exception("broker report failed", report=repr(report))
                    self.bus.publish(EngineError(Component.EXECUTION, str(error), self.now_ms()))

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(self.housekeeping_s)
            async with self.lock:
                try:
                    await self.housekeeping()
                except Exception as error:
                    log.exception("housekeeping failed")
                    self.bus.publish(EngineError(Component.HOUSEKEEPING, str(error), self.now_ms()))

    async def housekeeping(self) -> None:
        """One pass: paper crossings, order polling and time limits, marks, exits,
        resolutions and redemptions (every `execution.redeem_interval_s`)."""
        broker = self.edges.broker
        if isinstance(broker, PaperBroker):
            for token in {order.intent.token_id for order in self.orders.open_orders()}:
                broker.on_book(await self.edges.books.book(token))
        await self.orders.poll()
        marks: dict[TokenId, Price] = {}
        for token in list(self.pipeline.view.positions.keys()):
            try:
                book = await self.edges.books.book(token)
            except Exception as error:  # unmarked: valued at cost
                log.warning("no book to mark", token=token, error=str(error))
                continue
            if book.mid is not None:
                marks[token] = Price.parse(book.mid, Rounding.HALF_EVEN)
        self.pipeline.refresh_marks(marks)
        await self.pipeline.check_exits()
        await self.pipeline.refresh_leader_values(self.bankroll_leaders(), LEADER_VALUE_MAX_AGE_MS)
        now_ms = self.now_ms()
        if now_ms - self._last_redeem_ms >= self.config.execution.redeem_interval_s * 1000:
            self._last_redeem_ms = now_ms
            await self.pipeline.check_resolutions()

    async def shutdown(self) -> None:
        async with self.lock:
            if self.config.execution.on_shutdown == "cancel":
                try:
                    await self.orders.cancel_all()
                except Exception as error:
                    log.warning("cancelling resting orders failed", error=str(error))
            await self.edges.broker.close()
            for close in self.edges.closers:
                await close()
            self.store.close()

    def now_ms(self) -> int:
        return self.edges.clock.now_ms()


# --- building ---------------------------------------------------------------------------------


def user_channel(url: str, trading: LiveTrading) -> UserChannel:
    """The CLOB user channel for the account's API key (given, or derived by the SDK).

    Every market (no `markets` filter): fills of resting orders in any market we trade.
    The credentials are registered with the redactor before anything can log them.
    """
    creds = trading.client.credentials
    REDACTOR.register(creds.key, creds.secret, creds.passphrase)
    return UserChannel(
        url,
        api_key=Secret(creds.key),
        api_secret=Secret(creds.secret),
        api_passphrase=Secret(creds.passphrase),
    )


async def build_paper(
    config: PolytailConfig,
    *,
    fills: AsyncIterator[LeaderFill],
    store: Store | None = None,
    venue: VenueClients | None = None,
    clock: EngineClock | None = None,
    bus: EventBus | None = None,
) -> Engine:
    """A paper engine on the venue's real markets and books (or the local exchange's)."""
    clients = venue or VenueClients.from_settings(config.venue)
    the_clock = clock or WallClock()
    books = FreshBooks(clients.books)
    holder: list[Engine] = []
    broker = PaperBroker(
        books,
        LedgerAccount(lambda: holder[0].orders),
        latency_ms=config.paper.latency_ms,
        now_ms=the_clock.now_ms,
        sleep=the_clock.sleep,
    )
    edges = Edges(
        fills,
        broker,
        clients.markets,
        books,
        the_clock,
        [clients.close],
        DataApiLeaders(clients.data_v1),
    )
    engine = Engine(config, store or Store.from_config(config), edges, bus=bus)
    holder.append(engine)
    return engine


async def build_live(
    config: PolytailConfig,
    secrets: Secrets,
    *,
    fills: AsyncIterator[LeaderFill],
    store: Store | None = None,
    venue: VenueClients | None = None,
    clock: EngineClock | None = None,
    bus: EventBus | None = None,
) -> Engine:
    """A live engine: orders through the official SDK for the configured wallet."""
    if secrets.private_key is None:
        raise ValueError("live trading needs the signing key (POLYTAIL_PRIVATE_KEY or a keystore)")
    if config.wallet.address is None:
        raise ValueError("live trading needs wallet.address")
    clients = venue or VenueClients.from_settings(config.venue)
    credentials = None
    if secrets.has_clob_credentials:
        assert secrets.clob_api_key and secrets.clob_api_secret and secrets.clob_api_passphrase
        credentials = ApiCredentials(
            secrets.clob_api_key, secrets.clob_api_secret, secrets.clob_api_passphrase
        )
    trading = await LiveTrading.connect(
        venue=config.venue,
        wallet=config.wallet,
        private_key=secrets.private_key,
        credentials=credentials,
        limiter=clients.limiter,
    )
    wallet: Address = address(config.wallet.address)
    broker = LiveBroker(
        trading,
        wallet,
        clients.markets.get_by_token,
        user_channel=user_channel(config.venue.clob_user_ws_url, trading),
    )
    books = FreshBooks(clients.books)
    edges = Edges(
        fills,
        broker,
        clients.markets,
        books,
        clock or WallClock(),
        [clients.close],
        DataApiLeaders(clients.data_v1),
    )
    return Engine(config, store or Store.from_config(config), edges, bus=bus)

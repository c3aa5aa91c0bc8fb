"""The runtime: builds one engine from `PolytailConfig` and runs it until told to stop.

Composition is explicit so every edge can be swapped: `Edges` holds where fills come from,
who fills our orders, where markets and books come from, and what time it is. `build_paper`
and `build_live` make the edges for a run against the venue (or the local exchange);
a backtest builds its own (replay fills, replay books, a paper broker on them, a
`SimulatedClock`) and calls `Engine(...)` directly.

    engine = await build_paper(config, fills=source)          # or build_live(config, secrets, ...)
    await engine.run(stop)                                     # until stop.set()

`run` reconciles before the first order (retrying with backoff while the venue does not
answer), then runs three loops on one event loop: the intake (first the fills recorded
but never decided, e.g. by a run that crashed between the two, then each new leader fill
through the pipeline), the broker's fill reports, and the housekeeping pass (order
polling and time limits, paper book crossings, exit rules, marks, resolutions and
redemptions). One lock serialises them, so an order is never changed by two of them at
once, and each loop is supervised: one that fails is reported and restarted with backoff
while the others go on. Shutdown lets the fill or report in hand finish, stops the
loops, cancels or leaves resting orders (`execution.on_shutdown`), and closes the
broker, the venue clients and the store.
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
from polytail.engine.events import (
    Component,
    ComponentState,
    ComponentStatus,
    EngineError,
    EventBus,
)
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
RESTART_MIN_S = 1.0  # a failed start or loop is retried after this, doubling up to the max
RESTART_MAX_S = 60.0
BACKLOG_MARGIN_MS = 60_000  # undecided fills are taken back this much beyond the max fill age


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

    async def run(
        self,
        stop: asyncio.Event,
        *,
        opening_cash: Usdc | None = None,
        stop_timeout_s: float = 30.0,
    ) -> None:
        """Start (retrying while the venue does not answer), run until `stop` is set, then
        shut down. A fill, report or housekeeping pass in hand when `stop` is set is
        finished first (for at most `stop_timeout_s`); no new one is started."""
        try:
            if not await self._start_until_up(stop, opening_cash):
                return
            tasks = [
                asyncio.create_task(self._supervised("intake", Component.PIPELINE, self._intake)),
                asyncio.create_task(
                    self._supervised("reports", Component.BROKER, self._reports, degrade=True)
                ),
                asyncio.create_task(
                    self._supervised("housekeeping", Component.HOUSEKEEPING, self._housekeeping)
                ),
            ]
            try:
                await stop.wait()
            finally:
                await self._stop_loops(tasks, stop_timeout_s)
        finally:
            await self.shutdown()

    async def _start_until_up(self, stop: asyncio.Event, opening_cash: Usdc | None) -> bool:
        """`start`, retried with backoff (reported as the broker DOWN) until it succeeds or
        `stop` is set. False when stopped first."""
        delay = RESTART_MIN_S
        while not stop.is_set():
            try:
                await self.start(opening_cash=opening_cash)
                return True
            except Exception as error:
                log.exception("engine start failed; retrying", in_s=delay)
                message = f"start failed ({type(error).__name__}: {error}); retrying in {delay:g} s"
                now_ms = self.now_ms()
                self.bus.publish(
                    ComponentStatus(Component.BROKER, ComponentState.DOWN, message, now_ms)
                )
                self.bus.publish(EngineError(Component.EXECUTION, message, now_ms))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(RESTART_MAX_S, delay * 2)
        return False

    async def _stop_loops(self, tasks: list[asyncio.Task[None]], timeout_s: float) -> None:
        """Let the work in hand finish (the loops hold the lock while working), then cancel
        the loops where they wait for more."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.lock.acquire()
        except TimeoutError:
            log.warning("work in hand did not finish in time; cancelling it", timeout_s=timeout_s)
        try:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            if self.lock.locked():
                self.lock.release()

    async def _supervised(
        self,
        name: str,
        component: str,
        loop: Callable[[], Awaitable[None]],
        *,
        degrade: bool = False,
    ) -> None:
        """Run `loop`; when it fails, report it and start it again with backoff. The other
        loops go on meanwhile. `degrade`: the component is reported DEGRADED until then."""
        delay = RESTART_MIN_S
        while True:
            try:
                await loop()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.exception("engine loop failed; restarting", loop=name, in_s=delay)
                message = (
                    f"{name} failed ({type(error).__name__}: {error}); restarting in {delay:g} s"
                )
                now_ms = self.now_ms()
                self.bus.publish(EngineError(component, message, now_ms))
                if degrade:
                    state = ComponentState.DEGRADED
                    self.bus.publish(ComponentStatus(component, state, message, now_ms))
            await asyncio.sleep(delay)
            delay = min(RESTART_MAX_S, delay * 2)

    def undecided_fills(self) -> list[LeaderFill]:
        """Recorded fills of watched leaders with no decision yet: the merger records a
        fill before handing it out, so a crash in between leaves it here (it is skipped as
        too old when it is). Fills recorded within the longest max fill age (+ a margin)."""
        ages = [self.config.filters.max_fill_age_s]
        ages += [leader.filters.max_fill_age_s for leader in self.config.leaders]
        since_ms = self.now_ms() - int(max(ages) * 1000) - BACKLOG_MARGIN_MS
        with self.store.read() as tx:
            fills = tx.fills.undecided(self.account, since_ms=since_ms)
        watched = set(self.watched())
        return [fill for fill in fills if fill.wallet in watched]

    async def _intake(self) -> None:
        backlog = await asyncio.to_thread(self.undecided_fills)
        if backlog:
            log.info("deciding fills recorded but never decided", count=len(backlog))
        for fill in backlog:
            await self._handle(fill)
        async for fill in self.edges.fills:
            await self._handle(fill)

    async def _handle(self, fill: LeaderFill) -> None:
        async with self.lock:
            try:
                await self.pipeline.handle(fill)
            except Exception as error:  # the fill stays undecided: the next start retries it
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
        """Cancel (or leave) resting orders, then close the broker, the clients and the
        store. Each step runs even when an earlier one failed."""
        if self.ready.is_set() and self.config.execution.on_shutdown == "cancel":
            try:
                await self.orders.cancel_all()
            except Exception as error:
                log.warning("cancelling resting orders failed", error=str(error))
        for close in (self.edges.broker.close, *self.edges.closers):
            try:
                await close()
            except Exception as error:
                log.warning("closing failed", error=str(error))
        self.store.close()

    def reload(self, config: PolytailConfig) -> list[Address]:
        """Apply a new configuration's leaders, filters, sizing, pricing, exits and risk
        (the caller holds `lock` and has checked that nothing else changed). Returns the
        leaders that became watched, whose positions the caller seeds (`watch_leader`)."""
        before = set(self.watched())
        self.config = config
        self.pipeline.policy = Policy.from_config(config)
        return [leader for leader in self.watched() if leader not in before]

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
        relayer_key=secrets.gasless_key,
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

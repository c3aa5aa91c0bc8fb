"""Live fills through the CLOB user channel: a resting copy's fill is booked from the
channel once CONFIRMED (before any poll), a MATCHED fill is shown as settling and not
booked, a FAILED fill is never booked, and a dropped channel loses nothing because
polling books what it missed, once.

The exchange settles trades only when told (`settle_delays=None`), so every step is
decided by the test; nothing waits on timing except for the websocket handshake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from polytail.config.schema import PolytailConfig
from polytail.config.secrets import Secret, Secrets
from polytail.domain.fills import FeedSource, LeaderFill, Side
from polytail.domain.ids import FillId, TxHash, address
from polytail.domain.ledger import TradeFill
from polytail.domain.money import Shares, Usdc
from polytail.domain.orders import OrderState
from polytail.engine.events import (
    ComponentState,
    ComponentStatus,
    EventBus,
    FillSettling,
    OrderUpdated,
    TradeBooked,
)
from polytail.engine.runtime import Engine, build_live
from polytail.sim.server import RunningSim, start_sim
from polytail.store import Store
from polytail.venue.clients import VenueClients
from tests.execution.support import scenario, tokens, venue_settings

LEADER = address("0x" + "2e" * 20)
MARKET = {"slug": "stream", "mid": "0.4", "spread": "0.04", "depth": 4, "level_size": "500"}


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with start_sim(scenario(MARKET, seed=9), settle_delays=None) as running:
        yield running


async def nothing() -> AsyncIterator[LeaderFill]:
    await asyncio.Event().wait()
    yield  # pragma: no cover


class Recorder:
    """Engine events, and a way to wait for the first one that matches."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[Any] = []
        self._changed = asyncio.Event()
        bus.listen(self._on)

    def _on(self, event: Any) -> None:
        self.events.append(event)
        self._changed.set()

    async def first(self, match: Callable[[Any], bool]) -> Any:
        async with asyncio.timeout(10):
            while True:
                found = [e for e in self.events if match(e)]
                if found:
                    return found[0]
                self._changed.clear()
                await self._changed.wait()


async def until(check: Callable[[], bool]) -> None:
    """Wait for a condition of the exchange: its websocket handshakes happen in its own
    thread, which has no event this loop could await."""
    async with asyncio.timeout(10):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def live_engine(sim: RunningSim, tmp_path: Path) -> tuple[Engine, Recorder, Any]:
    account = Account.create()
    sim.admin.fund(account.address, pusd="100")
    cfg = PolytailConfig.model_validate(
        {
            "mode": "live",
            "account": "streamer",
            "data_dir": str(tmp_path),
            "database": {"url": f"sqlite:///{tmp_path / 'live.sqlite'}"},
            "wallet": {"address": account.address, "type": "eoa"},
            "venue": venue_settings(sim).model_dump(),
            "leaders": [{"address": LEADER}],
            "filters": {"max_fill_age_s": 10**9},
            "sizing": {"mode": "fixed", "fixed_usdc": 10},
            "pricing": {"slippage_bps": 0, "buy_order_type": "GTC", "gtc_ttl_s": 3600},
        }
    )
    bus = EventBus()
    recorder = Recorder(bus)
    engine = await build_live(
        cfg,
        Secrets(private_key=Secret(account.key.hex())),
        fills=nothing(),
        store=Store.open(cfg.database_url()),
        venue=VenueClients.from_settings(venue_settings(sim)),
        bus=bus,
    )
    await engine.start()
    return engine, recorder, account


def subscribed(sim: RunningSim) -> Callable[[], bool]:
    return lambda: any(s.api_key for s in sim.exchange.hub.subscribers["user"])


async def resting_copy(sim: RunningSim, engine: Engine) -> tuple[Any, str, str]:
    """A copied leader buy that rests as the best bid; returns the order, token, price."""
    condition, (yes, _) = tokens(sim, "stream")
    book = sim.exchange.engine.books[yes]
    price = Decimal(book.best_bid() + 10_000) / 1_000_000
    fill = LeaderFill(
        fill_id=FillId("stream-" + yes[-12:]),
        wallet=LEADER,
        side=Side.BUY,
        token_id=yes,  # type: ignore[arg-type]
        condition_id=condition,  # type: ignore[arg-type]
        outcome_index=0,
        price=price,
        size=Shares.parse("100"),
        usdc=Usdc.parse("40"),
        timestamp=sim.exchange.now(),
        tx_hash=TxHash("0x" + "cd" * 32),
        source=FeedSource.POLL,
    )
    async with engine.lock:
        handled = await engine.pipeline.handle(fill)
    assert handled is not None and handled.order is not None
    assert handled.order.state is OrderState.LIVE
    return handled.order, yes, str(price)


def sell_into(sim: RunningSim, order: Any, token: str, price: str) -> Any:
    """Someone sells exactly our resting order's size at its price: it fills completely."""
    size = str(order.intent.size.to_decimal())
    return sim.admin.trade(Account.create().address, token, "SELL", shares=size, price=price)


def sources(engine: Engine, client_id: str) -> list[str]:
    with engine.store.read() as tx:
        return [e.source for e in tx.orders.events(client_id)]  # type: ignore[arg-type]


def booked(engine: Engine) -> list[TradeFill]:
    with engine.store.read() as tx:
        return [e for e in tx.ledger.events(engine.account) if isinstance(e, TradeFill)]


async def running(engine: Engine, work: Callable[[], Awaitable[None]]) -> None:
    """Run the engine's broker-report loop (no housekeeping: nothing polls) around `work`."""
    reports = asyncio.create_task(engine._reports())
    try:
        await work()
    finally:
        reports.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reports
        await engine.shutdown()


async def test_a_confirmed_fill_is_booked_from_the_channel_before_any_poll(
    sim: RunningSim, tmp_path: Path
) -> None:
    engine, recorder, account = await live_engine(sim, tmp_path)
    broker_ready = [
        e for e in recorder.events if isinstance(e, ComponentStatus) and e.component == "broker"
    ]
    assert broker_ready and broker_ready[-1].state is ComponentState.READY

    async def work() -> None:
        await until(subscribed(sim))
        order, yes, price = await resting_copy(sim, engine)
        trade = sell_into(sim, order, yes, price)

        settling = await recorder.first(lambda e: isinstance(e, FillSettling))
        assert settling.trade_id.startswith(trade["trade_id"])  # <trade>:<our maker order>
        assert settling.status == "MATCHED"
        assert settling.shares == order.intent.size
        assert booked(engine) == []  # not final: nothing in the ledger yet
        # Matched at the venue, but its fill is not final: the order stays open (UNKNOWN:
        # ended there, not yet settled with our books) and keeps its reserve.
        waiting = engine.orders.find(order.client_id)
        assert waiting is not None and waiting.state is OrderState.UNKNOWN
        assert engine.pipeline.view.committed.is_positive

        sim.admin.settle_trade(trade["trade_id"])
        done = await recorder.first(lambda e: isinstance(e, TradeBooked))
        assert done.trade_id.startswith(trade["trade_id"]) and done.shares == order.intent.size
        settled = engine.orders.find(order.client_id)
        assert settled is not None and settled.state is OrderState.MATCHED
        assert "poll" not in sources(engine, order.client_id)
        assert [t.shares for t in booked(engine)] == [order.intent.size]
        assert sim.exchange.engine.balance(account.address, yes) == order.intent.size.units

    await running(engine, work)


async def test_a_failed_fill_is_never_booked_and_the_order_ends(
    sim: RunningSim, tmp_path: Path
) -> None:
    engine, recorder, account = await live_engine(sim, tmp_path)
    cash = engine.orders.ledger.cash

    async def work() -> None:
        await until(subscribed(sim))
        order, yes, price = await resting_copy(sim, engine)
        trade = sell_into(sim, order, yes, price)
        await recorder.first(lambda e: isinstance(e, FillSettling) and e.status == "MATCHED")
        sim.admin.fail_trade(trade["trade_id"])
        await recorder.first(lambda e: isinstance(e, FillSettling) and e.status == "FAILED")
        change = await recorder.first(
            lambda e: isinstance(e, OrderUpdated) and e.order.state.is_terminal
        )
        assert change.order.state is OrderState.CANCELED  # ended, nothing filled
        ended = engine.orders.find(order.client_id)
        assert ended is not None and ended.state is OrderState.CANCELED
        assert ended.filled == Shares(0)
        assert booked(engine) == []
        assert engine.orders.ledger.cash == cash
        assert sim.exchange.engine.balance(account.address) == cash.units  # the venue agrees
        assert engine.pipeline.view.committed == Usdc(0)

    await running(engine, work)


async def test_a_dropped_channel_loses_no_fill_and_books_none_twice(
    sim: RunningSim, tmp_path: Path
) -> None:
    engine, recorder, account = await live_engine(sim, tmp_path)

    async def work() -> None:
        await until(subscribed(sim))
        order, yes, price = await resting_copy(sim, engine)
        # The channel drops and cannot come back while the fill happens and becomes final.
        sim.admin.faults(set=[{"kind": "status", "service": "ws", "status": 503}])
        sim.admin.drop("user")
        await until(lambda: not subscribed(sim)())
        trade = sell_into(sim, order, yes, price)
        sim.admin.settle_trade(trade["trade_id"])
        assert not [e for e in recorder.events if isinstance(e, FillSettling)]  # never heard

        async with engine.lock:
            await engine.orders.poll()  # the safety net
        assert [t.shares for t in booked(engine)] == [order.intent.size]
        assert "poll" in sources(engine, order.client_id)

        # The channel returns: the gap makes the engine look again, and books nothing twice.
        sim.admin.faults(clear=True)
        gap = await recorder.first(
            lambda e: (
                isinstance(e, ComponentStatus)
                and e.component == "broker"
                and "reconnected" in e.detail
            )
        )
        assert gap.state is ComponentState.READY
        assert [t.shares for t in booked(engine)] == [order.intent.size]
        engine.orders.ledger.check_conservation()
        assert sim.exchange.engine.balance(account.address, yes) == order.intent.size.units

    await running(engine, work)

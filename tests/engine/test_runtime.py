"""The engine's run: fills recorded but never decided are taken at start, a failing start or
loop is retried and reported while the rest goes on, and a stop lets the order in hand
finish."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from polytail.config.schema import PolytailConfig
from polytail.domain.fills import LeaderFill
from polytail.domain.ids import Address, address
from polytail.domain.orders import OrderState
from polytail.engine import runtime
from polytail.engine.events import (
    Component,
    ComponentState,
    ComponentStatus,
    DecisionMade,
    EngineError,
    Event,
    EventBus,
    OrderUpdated,
)
from polytail.engine.runtime import Engine, build_paper
from polytail.execution.broker import Broker
from polytail.sim.server import RunningSim, start_sim
from polytail.store import Store
from polytail.venue.clients import VenueClients
from tests.execution.support import scenario, tokens, venue_settings
from tests.support.waiting import eventually

MARKET = {"slug": "run", "mid": "0.5", "spread": "0.02", "depth": 6, "level_size": "2000"}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSim]:
    with start_sim(scenario(MARKET, seed=21), settle_delays=(0.0, 0.0)) as running:
        yield running


@pytest.fixture(autouse=True)
def quick_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "RESTART_MIN_S", 0.05)


class Source:
    """Leader fills the test hands to the engine, as the merger would."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[LeaderFill] = asyncio.Queue()

    async def __aiter__(self) -> AsyncIterator[LeaderFill]:
        while True:
            yield await self.queue.get()


def config(tmp_path: Path, leaders: list[str], **paper: Any) -> PolytailConfig:
    return PolytailConfig.model_validate(
        {
            "account": "runner",
            "data_dir": str(tmp_path),
            "leaders": [{"address": leader} for leader in leaders],
            "filters": {"max_fill_age_s": 3600},
            "pricing": {"slippage_bps": 500, "buy_order_type": "FAK"},
            "paper": {"latency_ms": 0, "starting_cash_usdc": 1000, **paper},
        }
    )


async def engine_for(
    sim: RunningSim, cfg: PolytailConfig, events: list[Event], fills: Source | None = None
) -> Engine:
    bus = EventBus()
    bus.listen(events.append)
    return await build_paper(
        cfg,
        fills=aiter(fills or Source()),
        store=Store.from_config(cfg),
        venue=VenueClients.from_settings(venue_settings(sim)),
        bus=bus,
    )


def leader_buys(sim: RunningSim, name: str, shares: str = "40") -> Address:
    wallet = address(sim.exchange.named_wallet(name))
    sim.admin.fund(wallet, pusd="100000")
    _, (yes, _) = tokens(sim, "run")
    sim.admin.trade(wallet, yes, "BUY", shares=shares, price="0.51")
    return wallet


async def activity(sim: RunningSim, wallet: Address) -> list[LeaderFill]:
    clients = VenueClients.from_settings(venue_settings(sim))
    try:
        walk = await clients.data_v1.activity_fills(wallet)
    finally:
        await clients.close()
    return sorted(walk.batch.fills, key=lambda f: (f.timestamp, f.fill_id))


async def test_fills_recorded_but_never_decided_are_decided_at_start(
    sim: RunningSim, tmp_path: Path
) -> None:
    watched, other = leader_buys(sim, "crashed-before-deciding"), leader_buys(sim, "not-watched")
    (lost,) = await activity(sim, watched)
    (stranger,) = await activity(sim, other)
    cfg = config(tmp_path, [watched])
    with Store.from_config(cfg) as store, store.transaction() as tx:
        tx.fills.record([lost, stranger], seen_at_ms=lost.timestamp * 1000)
    events: list[Event] = []
    engine = await engine_for(sim, cfg, events)
    stop = asyncio.Event()
    run = asyncio.create_task(engine.run(stop))
    decided = [e.decision for e in events if isinstance(e, DecisionMade)]
    await eventually(lambda: any(isinstance(e, DecisionMade) for e in events))
    await asyncio.sleep(0.2)  # nothing else is decided
    stop.set()
    await run
    decided = [e.decision for e in events if isinstance(e, DecisionMade)]
    assert [d.fill_id for d in decided] == [lost.fill_id]
    assert decided[0].is_copy

    # A second start finds nothing left to decide: the copy is not made twice.
    again: list[Event] = []
    restarted = await engine_for(sim, cfg, again)
    assert restarted.undecided_fills() == []
    await restarted.shutdown()


class FailingOnce:
    """A broker whose first start-up call and first report stream fail."""

    def __init__(self, inner: Broker) -> None:
        self.inner = inner
        self.failed_start = self.failed_reports = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def trades_since(self, *args: Any, **kwargs: Any) -> Any:
        if not self.failed_start:
            self.failed_start = True
            raise ConnectionError("venue unreachable")
        return await self.inner.trades_since(*args, **kwargs)

    async def reports(self) -> AsyncIterator[Any]:
        if not self.failed_reports:
            self.failed_reports = True
            raise ConnectionError("report stream broke")
        async for report in self.inner.reports():
            yield report


async def test_a_failed_start_and_a_broken_report_stream_are_retried_and_reported(
    sim: RunningSim, tmp_path: Path
) -> None:
    wallet = leader_buys(sim, "steady")
    events: list[Event] = []
    fills = Source()
    engine = await engine_for(sim, config(tmp_path, [wallet]), events, fills)
    flaky = FailingOnce(engine.edges.broker)
    engine.edges.broker = flaky  # type: ignore[assignment]
    engine.orders.broker = flaky  # type: ignore[assignment]
    stop = asyncio.Event()
    run = asyncio.create_task(engine.run(stop))
    await eventually(engine.ready.is_set)
    await eventually(
        lambda: any(isinstance(e, EngineError) and "reports" in e.message for e in events)
    )
    (fill,) = await activity(sim, wallet)
    fills.queue.put_nowait(fill)  # intake goes on while the report stream is restarted
    await eventually(lambda: any(isinstance(e, DecisionMade) for e in events))
    stop.set()
    await run
    down = [
        e
        for e in events
        if isinstance(e, ComponentStatus)
        and e.component == Component.BROKER
        and e.state is ComponentState.DOWN
    ]
    assert down and "venue unreachable" in down[0].detail
    assert flaky.failed_start and flaky.failed_reports
    assert any(isinstance(e, ComponentStatus) and e.state is ComponentState.READY for e in events)


async def test_a_stop_lets_the_order_in_hand_finish(sim: RunningSim, tmp_path: Path) -> None:
    wallet = leader_buys(sim, "last-minute")
    events: list[Event] = []
    fills = Source()
    cfg = config(tmp_path, [wallet], latency_ms=300)
    engine = await engine_for(sim, cfg, events, fills)
    stop = asyncio.Event()
    run = asyncio.create_task(engine.run(stop))
    await eventually(engine.ready.is_set)
    (fill,) = await activity(sim, wallet)
    fills.queue.put_nowait(fill)
    await eventually(
        lambda: any(
            isinstance(e, OrderUpdated) and e.order.state is OrderState.SENT for e in events
        )
    )
    stop.set()  # while the paper venue is still "thinking" about the order
    await run
    with Store.from_config(cfg) as store, store.read() as tx:
        (order,) = tx.orders.recent(engine.account)
    assert order.state is OrderState.MATCHED

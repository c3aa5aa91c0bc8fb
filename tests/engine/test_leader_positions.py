"""Leaders' positions are seeded from the Data API: a sale of a position the leader opened
before we watched is mirrored in proportion (not as a full exit), a fill already in the
snapshot is not counted twice, and bankroll sizing knows the leader's portfolio value."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from polytail.config.schema import PolytailConfig
from polytail.domain.decisions import ReasonCode
from polytail.domain.fills import LeaderFill, Side
from polytail.domain.ids import Address, address
from polytail.domain.money import Shares
from polytail.engine.events import EngineError, EventBus
from polytail.engine.runtime import Engine, build_paper
from polytail.sim.server import RunningSim, start_sim
from polytail.store import Store
from polytail.venue.clients import VenueClients
from tests.execution.support import scenario, tokens, venue_settings

MARKET = {"slug": "held", "mid": "0.5", "spread": "0.02", "depth": 6, "level_size": "2000"}


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with start_sim(scenario(MARKET, seed=12), settle_delays=(0.0, 0.0)) as running:
        yield running


async def nothing() -> AsyncIterator[LeaderFill]:
    await asyncio.Event().wait()
    yield  # pragma: no cover


async def engine_for(
    sim: RunningSim, tmp_path: Path, leader: str, sizing: dict[str, Any], events: list[Any]
) -> Engine:
    cfg = PolytailConfig.model_validate(
        {
            "account": "follower",
            "data_dir": str(tmp_path),
            "database": {"url": f"sqlite:///{tmp_path / 'paper.sqlite'}"},
            "leaders": [{"address": leader}],
            "filters": {"max_fill_age_s": 10**9},
            "sizing": sizing,
            "pricing": {"slippage_bps": 500, "buy_order_type": "FAK", "sell_order_type": "FAK"},
            "paper": {"latency_ms": 0, "starting_cash_usdc": 1000},
        }
    )
    bus = EventBus()
    bus.listen(events.append)
    engine = await build_paper(
        cfg,
        fills=nothing(),
        store=Store.open(cfg.database_url()),
        venue=VenueClients.from_settings(venue_settings(sim)),
        bus=bus,
    )
    await engine.start()
    return engine


async def fills_of(engine: Engine, leader: Address) -> list[LeaderFill]:
    """The leader's fills as the poll feed sees them (Data API activity), oldest first."""
    walk = await engine.edges.leaders.data.activity_fills(leader)  # type: ignore[union-attr]
    return sorted(walk.batch.fills, key=lambda f: (f.timestamp, f.fill_id))


def leader_of(sim: RunningSim, name: str) -> Address:
    wallet = sim.exchange.named_wallet(name)
    sim.admin.fund(wallet, pusd="100000")
    return address(wallet)


async def test_a_sale_of_a_position_opened_before_watching_is_mirrored_in_proportion(
    sim: RunningSim, tmp_path: Path
) -> None:
    _, (yes, _) = tokens(sim, "held")
    leader = leader_of(sim, "early-bird")
    sim.admin.trade(leader, yes, "BUY", shares="100", price="0.52")  # before we watch
    sim.admin.advance(60)
    engine = await engine_for(sim, tmp_path, leader, {"mode": "fixed", "fixed_usdc": 20}, [])
    sim.admin.advance(60)
    sim.admin.trade(leader, yes, "BUY", shares="50", price="0.52")  # we copy this one
    first, added = await fills_of(engine, leader)
    handled = await engine.pipeline.handle(added)
    assert handled is not None and handled.decision.is_copy
    held = engine.orders.ledger.held_for(yes, leader)
    assert held.is_positive

    sim.admin.advance(60)
    sim.admin.trade(leader, yes, "SELL", shares="75", price="0.48")  # half of its 150
    sale = (await fills_of(engine, leader))[-1]
    assert sale.side is Side.SELL
    exit_ = await engine.pipeline.handle(sale)
    assert exit_ is not None and exit_.decision.is_copy
    decision = exit_.decision
    assert ReasonCode.EXIT_LEADER_POSITION_UNKNOWN not in decision.reasons
    assert decision.inputs["leader_held_before"] == "150"
    assert decision.size == Shares((held.units // 2) // 10_000 * 10_000)  # half, on the step
    assert first.timestamp < added.timestamp  # (the first buy was never copied)
    await engine.shutdown()


async def test_a_fill_already_in_the_snapshot_is_not_counted_twice(
    sim: RunningSim, tmp_path: Path
) -> None:
    _, (yes, _) = tokens(sim, "held")
    leader = leader_of(sim, "late-delivery")
    sim.admin.trade(leader, yes, "BUY", shares="100", price="0.52")
    engine = await engine_for(sim, tmp_path, leader, {"mode": "fixed", "fixed_usdc": 20}, [])
    sim.admin.advance(60)
    # The feed delivers the pre-snapshot buy only now (a late or re-delivered sighting).
    (early,) = await fills_of(engine, leader)
    handled = await engine.pipeline.handle(early)
    assert handled is not None
    assert handled.decision.inputs.get("leader_held_before") in (None, "0")

    sim.admin.trade(leader, yes, "SELL", shares="50", price="0.48")
    sale = (await fills_of(engine, leader))[-1]
    exit_ = await engine.pipeline.handle(sale)
    assert exit_ is not None
    # 100 held before the sale, not 200: the early buy was in the snapshot already.
    assert exit_.decision.inputs["leader_held_before"] == "100"

    await engine.shutdown()  # a restart keeps the seeded positions and the snapshot time
    again = await engine_for(sim, tmp_path, leader, {"mode": "fixed", "fixed_usdc": 20}, [])
    assert again.pipeline._leader_positions[(leader, yes)] == Shares.parse("50")  # type: ignore[index]
    await again.shutdown()


async def test_bankroll_sizing_uses_the_leaders_portfolio_value(
    sim: RunningSim, tmp_path: Path
) -> None:
    _, (yes, _) = tokens(sim, "held")
    leader = leader_of(sim, "whale")
    sim.admin.trade(leader, yes, "BUY", shares="1000", price="0.52")  # worth about 500
    events: list[Any] = []
    engine = await engine_for(sim, tmp_path, leader, {"mode": "bankroll"}, events)
    assert not [e for e in events if isinstance(e, EngineError)]
    sim.admin.advance(60)
    sim.admin.trade(leader, yes, "BUY", shares="100", price="0.52")
    fill = (await fills_of(engine, leader))[-1]
    handled = await engine.pipeline.handle(fill)
    assert handled is not None
    assert ReasonCode.SIZE_BANKROLL_UNKNOWN not in handled.decision.reasons
    assert handled.decision.is_copy
    await engine.shutdown()


async def test_an_unreachable_data_api_leaves_positions_to_the_fills_and_says_so(
    sim: RunningSim, tmp_path: Path
) -> None:
    leader = leader_of(sim, "hidden")
    sim.admin.faults(set=[{"kind": "status", "service": "data", "status": 503}])
    events: list[Any] = []
    engine = await engine_for(sim, tmp_path, leader, {"mode": "fixed", "fixed_usdc": 20}, events)
    errors = [e for e in events if isinstance(e, EngineError)]
    assert errors and "positions unavailable" in errors[0].message
    assert engine.ready.is_set()  # the engine goes on
    sim.admin.faults(clear=True)
    await engine.shutdown()

"""Exit-rule state survives a restart: the trailing stop's high-water mark is persisted, so a
price that peaked before the restart and fell after it still triggers the stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from polytail.config.schema import PolytailConfig
from polytail.domain.decisions import ReasonCode
from polytail.domain.fills import FeedSource, LeaderFill, Side
from polytail.domain.ids import FillId, TxHash, address
from polytail.domain.money import Price, Shares, Usdc
from polytail.engine.pipeline import HIGH_WATER
from polytail.engine.runtime import Engine, build_paper
from polytail.sim.server import RunningSim, start_sim
from polytail.store import Store
from polytail.venue.clients import VenueClients
from tests.execution.support import scenario, tokens, venue_settings

LEADER = address("0x" + "3e" * 20)
MARKET = {"slug": "peak", "mid": "0.4", "spread": "0.1", "depth": 3, "level_size": "500"}


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with start_sim(scenario(MARKET, seed=4), settle_delays=(0.0, 0.0)) as running:
        yield running


async def nothing() -> AsyncIterator[LeaderFill]:
    await asyncio.Event().wait()
    yield  # pragma: no cover


async def paper_engine(sim: RunningSim, tmp_path: Path) -> Engine:
    cfg = PolytailConfig.model_validate(
        {
            "account": "trailer",
            "data_dir": str(tmp_path),
            "database": {"url": f"sqlite:///{tmp_path / 'paper.sqlite'}"},
            "leaders": [{"address": LEADER}],
            "filters": {"max_fill_age_s": 10**9, "max_spread": "0.5"},
            "sizing": {"mode": "fixed", "fixed_usdc": 10},
            "pricing": {"slippage_bps": 500, "buy_order_type": "FAK"},
            "exits": {"trailing_stop_pct": 10},
            "paper": {"latency_ms": 0, "starting_cash_usdc": 100},
        }
    )
    engine = await build_paper(
        cfg,
        fills=nothing(),
        store=Store.open(cfg.database_url()),
        venue=VenueClients.from_settings(venue_settings(sim)),
    )
    await engine.start()
    return engine


def books_move(engine: Engine) -> None:
    engine.edges.books.max_age_s = 0  # type: ignore[attr-defined]


async def test_a_trailing_stop_keeps_its_high_water_mark_across_a_restart(
    sim: RunningSim, tmp_path: Path
) -> None:
    condition, (yes, _) = tokens(sim, "peak")
    engine = await paper_engine(sim, tmp_path)
    books_move(engine)
    ask = Decimal(sim.exchange.engine.books[yes].best_ask()) / 1_000_000
    fill = LeaderFill(
        fill_id=FillId("peak-" + yes[-10:]),
        wallet=LEADER,
        side=Side.BUY,
        token_id=yes,  # type: ignore[arg-type]
        condition_id=condition,  # type: ignore[arg-type]
        outcome_index=0,
        price=ask,
        size=Shares.parse("50"),
        usdc=Usdc.parse("20"),
        timestamp=sim.exchange.now(),
        tx_hash=TxHash("0x" + "ef" * 32),
        source=FeedSource.POLL,
    )
    handled = await engine.pipeline.handle(fill)
    assert handled is not None and handled.order is not None
    assert engine.orders.ledger.holding(yes).position.shares.is_positive  # type: ignore[union-attr]

    # The price peaks (a bid just under the ask) while we watch: no exit, a new high.
    peak = ask - Decimal("0.01")
    bidder = sim.exchange.named_wallet("bidder")
    sim.admin.fund(bidder, pusd="1000")
    sim.admin.order(bidder, yes, "BUY", shares="400", price=str(peak))
    assert [h for h in await engine.pipeline.check_exits() if h.decision.is_copy] == []
    with engine.store.read() as tx:
        saved = tx.risk.get(engine.account, HIGH_WATER, yes)
    assert saved is not None and Price(int(saved.value)) == Price.parse(str(peak))
    await engine.shutdown()

    # Someone takes the peak bid; the best bid falls back well over 10 % below the peak.
    sim.admin.trade(sim.exchange.named_wallet("seller"), yes, "SELL", shares="400", price=str(peak))
    assert Decimal(sim.exchange.engine.books[yes].best_bid()) / 1_000_000 < peak * Decimal("0.9")

    restarted = await paper_engine(sim, tmp_path)
    books_move(restarted)
    exits = await restarted.pipeline.check_exits()
    assert [h.decision.reasons[0] for h in exits] == [ReasonCode.EXIT_TRAILING_STOP]
    assert exits[0].decision.is_copy and exits[0].order is not None
    await restarted.shutdown()

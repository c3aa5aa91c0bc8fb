"""Resolution and redemption through the engine: claims become cash exactly once, on
neg-risk and Protocol V2 markets too, across a restart and a crash mid-redemption."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from polytail.config.schema import PolytailConfig
from polytail.domain.fills import FeedSource, LeaderFill, Side
from polytail.domain.ids import FillId, TxHash, address
from polytail.domain.ledger import HoldingStatus
from polytail.domain.money import Shares, Usdc
from polytail.engine.pipeline import REDEEMING
from polytail.engine.runtime import Engine, build_paper
from polytail.sim.server import RunningSim, start_sim
from polytail.store import Store
from polytail.venue.clients import VenueClients
from tests.execution.support import scenario, tokens, venue_settings

LEADER = address("0x" + "1e" * 20)
MARKETS = [
    {"slug": "plain", "mid": "0.4", "level_size": "500"},
    {"slug": "negrisk", "neg_risk": True, "event": "election", "mid": "0.3", "level_size": "500"},
    {"slug": "protocol-v2", "version": "v2", "mid": "0.6", "level_size": "500"},
]


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with start_sim(scenario(*MARKETS, seed=5), settle_delays=(0.0, 0.0)) as running:
        yield running


async def nothing() -> AsyncIterator[LeaderFill]:
    await asyncio.Event().wait()
    yield  # pragma: no cover


def config(tmp_path: Path) -> PolytailConfig:
    return PolytailConfig.model_validate(
        {
            "account": "redeemer",
            "data_dir": str(tmp_path),
            "database": {"url": f"sqlite:///{tmp_path / 'paper.sqlite'}"},
            "leaders": [{"address": LEADER}],
            "filters": {"max_fill_age_s": 10**9},
            "sizing": {"mode": "fixed", "fixed_usdc": 10},
            "pricing": {"slippage_bps": 500, "buy_order_type": "FAK"},
            "paper": {"latency_ms": 0, "starting_cash_usdc": 100},
        }
    )


async def engine_on(sim: RunningSim, tmp_path: Path) -> Engine:
    cfg = config(tmp_path)
    engine = await build_paper(
        cfg,
        fills=nothing(),
        store=Store.open(cfg.database_url()),
        venue=VenueClients.from_settings(venue_settings(sim)),
    )
    await engine.start()
    return engine


def leader_buy(sim: RunningSim, token: str, condition: str, price: str) -> LeaderFill:
    return LeaderFill(
        fill_id=FillId("f" + token[-20:]),
        wallet=LEADER,
        side=Side.BUY,
        token_id=token,  # type: ignore[arg-type]
        condition_id=condition,  # type: ignore[arg-type]
        outcome_index=0,
        price=Decimal(price),
        size=Shares.parse("50"),
        usdc=Usdc.parse("20"),
        timestamp=sim.exchange.now(),
        tx_hash=TxHash("0x" + "ab" * 32),
        source=FeedSource.POLL,
    )


@pytest.mark.parametrize("slug", ["plain", "negrisk", "protocol-v2"])
async def test_a_won_claim_is_paid_once_across_repeats_and_restarts(
    sim: RunningSim, tmp_path: Path, slug: str
) -> None:
    condition, (yes, _) = tokens(sim, slug)
    price = str(sim.exchange.price_of(yes) / 10**6)
    engine = await engine_on(sim, tmp_path)
    handled = await engine.pipeline.handle(leader_buy(sim, yes, condition, price))
    assert handled is not None and handled.order is not None
    ledger = engine.orders.ledger
    shares = ledger.holding(yes).position.shares  # type: ignore[union-attr]
    cash_before = ledger.cash
    assert shares.is_positive

    sim.admin.resolve(condition, winner=0)
    engine.edges.markets.invalidate(condition)  # type: ignore[attr-defined]
    await engine.pipeline.check_resolutions()
    await engine.pipeline.check_resolutions()  # a second pass pays nothing more
    holding = engine.orders.ledger.holding(yes)
    assert holding is not None and holding.status is HoldingStatus.REDEEMED
    assert engine.orders.ledger.cash == cash_before + Usdc(shares.units)  # $1 a share
    assert engine.pipeline.view.positions.get(yes) is None
    await engine.shutdown()

    again = await engine_on(sim, tmp_path)  # a restart finds nothing left to redeem
    again.edges.markets.invalidate(condition)  # type: ignore[attr-defined]
    await again.pipeline.check_resolutions()
    assert again.orders.ledger.cash == cash_before + Usdc(shares.units)
    again.orders.ledger.check_conservation()
    await again.shutdown()


async def test_a_redemption_interrupted_by_a_crash_is_not_sent_again(
    sim: RunningSim, tmp_path: Path
) -> None:
    condition, (yes, _) = tokens(sim, "plain")
    engine = await engine_on(sim, tmp_path)
    await engine.pipeline.handle(leader_buy(sim, yes, condition, "0.41"))
    shares = engine.orders.ledger.holding(yes).position.shares  # type: ignore[union-attr]
    sim.admin.resolve(condition, winner=0)
    engine.edges.markets.invalidate(condition)  # type: ignore[attr-defined]
    # The previous run marked the redemption as sent, then died before booking it.
    with engine.store.transaction() as tx:
        tx.risk.put(engine.account, REDEEMING, condition, "1", at_ms=1)

    calls: list[str] = []
    original = engine.edges.broker.redeem

    async def counting(*args: object) -> object:
        calls.append("redeem")
        return await original(*args)  # type: ignore[arg-type]

    engine.edges.broker.redeem = counting  # type: ignore[method-assign]
    cash_before = engine.orders.ledger.cash
    await engine.pipeline.check_resolutions()
    assert calls == []  # never sent twice: booked at the claim value instead
    assert engine.orders.ledger.cash == cash_before + Usdc(shares.units)
    await engine.shutdown()


async def test_a_lost_claim_closes_at_zero_once(sim: RunningSim, tmp_path: Path) -> None:
    condition, (yes, _) = tokens(sim, "negrisk")
    engine = await engine_on(sim, tmp_path)
    await engine.pipeline.handle(leader_buy(sim, yes, condition, "0.31"))
    cost = engine.orders.ledger.open_cost
    realized_before = engine.orders.ledger.totals.realized_pnl
    sim.admin.resolve(condition, winner=1)
    engine.edges.markets.invalidate(condition)  # type: ignore[attr-defined]
    await engine.pipeline.check_resolutions()
    await engine.pipeline.check_resolutions()
    assert engine.orders.ledger.totals.realized_pnl == realized_before - cost
    assert engine.orders.ledger.open_cost == Usdc(0)
    await engine.shutdown()

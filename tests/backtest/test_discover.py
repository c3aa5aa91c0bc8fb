"""Leader discovery against the local exchange: leaderboard candidates are fetched
(through the cache), backtested and scored; a steady winner ranks first and goes into
the config snippet, a two-sided high-frequency wallet and a loser are flagged, and a
second run reads everything from the cache."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from polytail.backtest.discover import (
    DiscoverSettings,
    from_file,
    from_leaderboard,
    gather,
    score,
)
from polytail.backtest.history import Cache
from polytail.backtest.settings import BacktestSettings
from polytail.sim.server import RunningSim, start_sim
from polytail.venue.clients import VenueClients
from tests.execution.support import scenario, tokens, venue_settings

STEADY = "0x" + "a1" * 20
BOT = "0x" + "b2" * 20
LOSER = "0x" + "c3" * 20
MARKETS = [
    {"slug": slug, "mid": "0.5", "spread": "0.02", "depth": 4, "level_size": "500"}
    for slug in ("alpha", "beta", "gamma", "delta")
]


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with start_sim(scenario(*MARKETS, seed=21), settle_delays=(0.0, 0.0)) as running:
        yield running


def script(sim: RunningSim) -> None:
    admin = sim.admin
    for wallet in (STEADY, BOT, LOSER):
        admin.fund(wallet, pusd="100000")
    alpha, (alpha_yes, _) = tokens(sim, "alpha")
    beta, (_, beta_no) = tokens(sim, "beta")
    gamma, (gamma_yes, gamma_no) = tokens(sim, "gamma")
    delta, (delta_yes, _) = tokens(sim, "delta")
    for _ in range(8):  # the steady winner: an hour apart, on the side that wins
        admin.trade(STEADY, alpha_yes, "BUY", shares="40", price="0.55")
        admin.trade(STEADY, beta_no, "BUY", shares="40", price="0.55")
        admin.trade(LOSER, delta_yes, "BUY", shares="40", price="0.55")
        admin.advance(3_600)
    for _ in range(20):  # both sides of one market, a second apart
        admin.trade(BOT, gamma_yes, "BUY", shares="6", price="0.55")
        admin.trade(BOT, gamma_no, "BUY", shares="6", price="0.55")
        admin.advance(1)
    for condition, winner in ((alpha, 0), (beta, 1), (gamma, 0), (delta, 1)):
        admin.resolve(condition, winner=winner)


async def test_discovery_ranks_a_steady_winner_first_and_flags_the_rest(
    sim: RunningSim, tmp_path: Path
) -> None:
    script(sim)
    cache = Cache(tmp_path / "cache")
    problems: list[str] = []
    venue = VenueClients.from_settings(venue_settings(sim))
    try:
        candidates = await from_leaderboard(
            venue, ["OVERALL"], ["ALL"], limit=10, problems=problems
        )
        files = await gather(venue, cache, candidates)
    finally:
        await venue.close()
    assert {STEADY, BOT, LOSER} <= {c.wallet for c in candidates}
    assert all(not entry[1] for wallet, entry in files.items() if wallet in (STEADY, BOT, LOSER))
    sim.admin.faults(set=[{"kind": "status", "service": "*", "status": 503}])  # offline now
    settings = DiscoverSettings(
        min_fills=10,
        backtest=BacktestSettings(latency_ms=2_000, slippage_bps=50, ratio=Decimal(1), caps=False),
    )
    result = score(candidates, files, settings, workers=2)
    ranked = {s.candidate.wallet: s for s in result.ranked()}
    steady, bot, loser = ranked[STEADY], ranked[BOT], ranked[LOSER]
    order = [s.candidate.wallet for s in result.ranked()]
    assert order.index(STEADY) < order.index(BOT) and order.index(STEADY) < order.index(LOSER)
    assert steady.flags == [] and steady.consistency == 1 and steady.score > 0
    assert steady.run is not None and Decimal(steady.run.figures["retained"]) > Decimal("0.9")
    assert "bot_like" in bot.flags and "two_sided" in bot.flags
    assert loser.score == 0 and "uncopyable" in loser.flags
    snippet = result.snippet(top=5)
    assert f'address = "{STEADY}"' in snippet
    assert BOT not in snippet and LOSER not in snippet

    venue = VenueClients.from_settings(venue_settings(sim))
    try:
        again = await gather(venue, cache, [c for c in candidates if c.wallet == STEADY])
    finally:
        await venue.close()
    assert again[STEADY][1] == []  # served from the cache, though the exchange now fails


def test_candidates_come_from_a_recorded_leaderboard(shared_data: Path) -> None:
    problems: list[str] = []
    candidates = from_file(shared_data / "pscanner" / "leaderboard.json", problems)
    assert problems == []
    assert [c.name for c in candidates][:3] == ["Theo4", "Fredi9999", "kch123"]
    assert candidates[2].wallet == "0x6a72f61820b26b1fe4d956e17b6dc2a1ea3033ee"
    assert candidates[0].leaderboard_pnl is not None and candidates[0].leaderboard_pnl > 0

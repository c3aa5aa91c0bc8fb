"""Backtests through the engine on small synthetic histories written in the venue's own
formats: the real venue's rules shape the copies, the ideal venue copies exactly, caps
and minimums show up as skips and penalty, and a run is deterministic for its seed."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from polytail.backtest.inputs import load_inputs
from polytail.backtest.report import Report, build
from polytail.backtest.runner import run_backtest
from polytail.backtest.settings import BacktestSettings
from polytail.config.schema import PolytailConfig
from polytail.domain.decisions import ReasonCode
from tests.backtest.support import LEADER, OTHER_LEADER, Fill, gamma_market, history

FILLS = [
    Fill(1, "BUY", "100", "0.40", at=0),  # a plain copy
    Fill(1, "BUY", "3", "0.50", at=60),  # x 0.1 is below the venue minimum
    Fill(2, "BUY", "57.123456", "0.3312345", at=120),  # off the step and the tick
    Fill(1, "SELL", "50", "0.70", at=600),  # the leader sells half: we mirror
    Fill(3, "BUY", "200", "0.20", at=900, wallet=OTHER_LEADER),  # a second leader, a loser
]
MARKETS = [gamma_market(1, winner=0), gamma_market(2, winner=0), gamma_market(3, winner=1)]


def run(tmp_path: Path, settings: BacktestSettings, config: PolytailConfig | None = None) -> Report:
    fills, markets = history(tmp_path, FILLS, MARKETS)
    return build(run_backtest(load_inputs([fills], [markets]), settings, config))


def test_the_real_venue_copies_on_its_step_and_skips_below_its_minimum(tmp_path: Path) -> None:
    report = run(tmp_path, BacktestSettings(latency_ms=0, slippage_bps=0, ratio=Decimal("0.1")))
    copies = list(report.record.copies.values())
    outcomes = [copy.outcome for copy in copies]
    # 0.3312345 x 1.02 rounds down to a 0.33 limit on the 0.01 tick: below the leader's
    # own average price, so nothing is offered within it
    assert outcomes == ["copied", "size_below_minimum", "price_slippage", "copied", "copied"]
    for copy in copies:
        assert copy.shares % Decimal("0.01") == 0  # the venue's 0.01-share step
    plain = copies[0]
    assert plain.shares == Decimal(10) and plain.notional == Decimal(4)  # 0.1 x 100 at 0.40
    sale = copies[3]
    assert sale.shares == Decimal("4.85")  # 10 x 50/103 (the leader held 103), on the step
    penalty = report.penalty
    assert penalty.total == penalty.price + penalty.fees + penalty.missed
    assert penalty.missed > 0  # the skipped fills and the sizes rounded down to the step


def test_caps_reduce_copies_and_are_named_in_their_reasons(tmp_path: Path) -> None:
    config = PolytailConfig.model_validate({"risk": {"max_order_usdc": "20"}})
    report = run(tmp_path, BacktestSettings(latency_ms=0, slippage_bps=0, ratio=Decimal(1)), config)
    first = next(iter(report.record.copies.values()))
    assert first.decision is not None and ReasonCode.RISK_MAX_ORDER in first.decision.reasons
    assert first.notional <= Decimal(20)
    assert report.record.config.risk.max_order_usdc == Decimal(20)  # the user's caps apply


def test_the_ideal_venue_copies_off_grid_fills_exactly(tmp_path: Path) -> None:
    report = run(
        tmp_path, BacktestSettings(latency_ms=0, slippage_bps=0, ratio=Decimal(1), caps=False)
    )
    copies = list(report.record.copies.values())
    assert [copy.outcome for copy in copies] == ["copied"] * 5
    off_grid = copies[2]
    assert off_grid.shares == Decimal("57.123456")
    # shares x the leader's price, to the base unit, half-even
    assert off_grid.notional == (Decimal("57.123456") * Decimal("0.3312345")).quantize(
        Decimal("0.000001")
    )
    for leader in (LEADER, OTHER_LEADER):
        own, ours = report.leaders[leader].own.totals, report.leaders[leader].follower.totals
        assert abs(own.pnl - ours.pnl) < Decimal("0.000002")
    combined = report.combined.totals.pnl
    assert combined == sum(report.leaders[w].own.totals.pnl for w in (LEADER, OTHER_LEADER))
    assert abs(report.penalty.total) < Decimal("0.00001")
    assert report.record.ledger_pnl == report.follower.totals.pnl  # the engine's ledger agrees


def test_slippage_beyond_the_tolerance_leaves_fills_uncopied(tmp_path: Path) -> None:
    config = PolytailConfig.model_validate({"pricing": {"slippage_bps": 100}})
    report = run(
        tmp_path,
        BacktestSettings(latency_ms=0, slippage_bps=300, ratio=Decimal(1), caps=False),
        config,
    )
    outcomes = [copy.outcome for copy in report.record.copies.values()]
    # every price is 3 % worse and 1 % is tolerated; so the leader's sale finds nothing held
    assert outcomes == ["price_slippage"] * 3 + ["exit_nothing_held", "price_slippage"]


def test_a_run_is_deterministic_for_its_seed(tmp_path: Path) -> None:
    settings = BacktestSettings(latency_ms=1_000, jitter_ms=30_000, seed=7, ratio=Decimal(1))
    first = run(tmp_path, settings).as_json()
    again = run(tmp_path, settings).as_json()
    assert first == again
    other = run(tmp_path, replace(settings, seed=8)).record.copies.values()
    assert [c.delivered_ms for c in other] != [
        c.delivered_ms for c in run(tmp_path, settings).record.copies.values()
    ]


def test_a_market_without_metadata_is_skipped_and_reported(tmp_path: Path) -> None:
    fills, markets = history(tmp_path, FILLS, MARKETS[:1])
    inputs = load_inputs([fills], [markets])
    assert any("have no metadata" in problem for problem in inputs.problems)
    report = build(run_backtest(inputs, BacktestSettings(latency_ms=0, ratio=Decimal(1))))
    outcomes = [copy.outcome for copy in report.record.copies.values()]
    assert outcomes[2] == "market_unknown" and outcomes[4] == "market_unknown"
    assert report.follower.totals.unresolved == 0


@pytest.mark.parametrize("leader", [LEADER, OTHER_LEADER])
def test_leader_selects_whose_fills_are_copied(tmp_path: Path, leader: str) -> None:
    report = run(tmp_path, BacktestSettings(latency_ms=0, ratio=Decimal(1), leaders=(leader,)))  # type: ignore[arg-type]
    assert set(report.leaders) == {leader}
    assert {copy.fill.wallet for copy in report.record.copies.values()} == {leader}

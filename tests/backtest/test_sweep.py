"""Sweeps: every point of the grid is an independent backtest run in a process pool,
returned in grid order with the same figures a single run gives."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from polytail.backtest.settings import BacktestSettings
from polytail.backtest.sweep import Grid, GridError, InputFiles, run_settings, sweep, table_rows
from tests.backtest.support import gamma_market, history, random_fills


def test_a_grid_is_the_product_of_its_axes_in_the_order_given() -> None:
    grid = Grid.parse(["latency=0,2.5", "ratio=0.5,1", "filters.min_leader_usdc=0,50"])
    runs = grid.settings(BacktestSettings())
    assert len(runs) == 8
    assert [(r.latency_ms, r.ratio, r.filters["min_leader_usdc"]) for r in runs[:3]] == [
        (0, Decimal("0.5"), Decimal(0)),
        (0, Decimal("0.5"), Decimal(50)),
        (0, Decimal(1), Decimal(0)),
    ]
    assert runs[-1].latency_ms == 2_500


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("latency", "expected KEY=V1,V2"),
        ("speed=1,2", "expected one of"),
        ("latency=-1", "non-negative"),
        ("tolerance=1.5", "whole number"),
        ("ratio=x", "not a number"),
    ],
)
def test_a_bad_grid_is_refused_with_what_was_expected(spec: str, message: str) -> None:
    with pytest.raises(GridError, match=message):
        Grid.parse([spec])


def test_a_sweep_runs_every_point_on_the_pool_in_grid_order(tmp_path: Path) -> None:
    fills, markets = history(
        tmp_path,
        random_fills(seed=5, count=30, markets=3),
        [gamma_market(n, winner=n % 2) for n in range(1, 4)],
    )
    files = InputFiles((fills,), (markets,))
    grid = Grid.parse(["latency=0,600", "slippage=0,100"])
    base = BacktestSettings(ratio=Decimal(1), caps=False)
    finished: list[int] = []
    result = sweep(files, grid, base, workers=2, on_done=lambda run: finished.append(run.index))
    assert sorted(finished) == [0, 1, 2, 3]
    assert [run.index for run in result.runs] == [0, 1, 2, 3]
    inputs = files.load()
    for run, settings in zip(result.runs, grid.settings(base), strict=True):
        assert not run.error
        assert run.figures == run_settings(run.index, settings, inputs, None).figures
    rows = table_rows(result)
    assert [(row["latency"], row["slippage"]) for row in rows] == [
        ("0", 0),
        ("0", 100),
        ("600", 0),
        ("600", 100),
    ]
    # no latency and no slippage on the ideal venue: no penalty; at the same latency,
    # slippage costs more (latency alone may help or hurt: prices move either way)
    penalty = [Decimal(row["penalty"]) for row in rows]
    assert penalty[0] == 0
    assert penalty[1] > penalty[0] and penalty[3] > penalty[2]

"""Parameter sweeps: the same replay under a grid of settings, on every core.

A grid names values per parameter (`latency=0,2,10`, `ratio=0.5,1`, `tolerance=100,300`,
`slippage=25,50`, `filters.min_leader_usdc=0,100`, ...); the sweep runs every
combination, each an independent backtest in its own process (`ProcessPoolExecutor`,
one worker per core). Each worker reads the input files once and keeps them for all of
its runs; runs are handed out and collected by index, so the result is the same in the
same order whatever the scheduling. A rich progress bar shows the runs as they finish.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from polytail.backtest.runner import Inputs, run_backtest
from polytail.backtest.settings import BacktestSettings
from polytail.config.schema import PolytailConfig
from polytail.domain.ids import Address

SECONDS_KEYS: Final = {"latency": "latency_ms", "jitter": "jitter_ms"}
INT_KEYS: Final = {"slippage": "slippage_bps", "tolerance": "tolerance_bps", "seed": "seed"}
DECIMAL_KEYS: Final = {"ratio": "ratio", "depth": "depth_usdc"}
FILTER_PREFIX: Final = "filters."


class GridError(ValueError):
    """A sweep parameter that cannot be read; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class InputFiles:
    """Where a sweep's inputs come from (each worker reads them once)."""

    fills: tuple[Path, ...]
    markets: tuple[Path, ...]
    books: tuple[Path, ...] = ()
    leaders: tuple[Address, ...] = ()

    def load(self) -> Inputs:
        from polytail.backtest.inputs import load_inputs  # noqa: PLC0415 - the feeds layer

        return load_inputs(self.fills, self.markets, self.books, self.leaders)


@dataclass(frozen=True, slots=True)
class Grid:
    """Values per parameter, in the order given; the runs are their product."""

    axes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def parse(cls, specs: Sequence[str]) -> Grid:
        axes: list[tuple[str, tuple[str, ...]]] = []
        for spec in specs:
            key, sep, values = spec.partition("=")
            key = key.strip()
            items = tuple(v.strip() for v in values.split(",") if v.strip())
            if not sep or not items:
                raise GridError(f"--sweep {spec!r}: expected KEY=V1,V2,... (e.g. latency=0,2,10)")
            if key not in (*SECONDS_KEYS, *INT_KEYS, *DECIMAL_KEYS) and not key.startswith(
                FILTER_PREFIX
            ):
                raise GridError(
                    f"--sweep {key!r}: expected one of {', '.join(_keys())} or filters.<key>"
                )
            if any(name == key for name, _ in axes):
                raise GridError(f"--sweep {key!r} is given twice")
            if not key.startswith(FILTER_PREFIX):
                for item in items:
                    _setting(key, item)  # refuse a bad value now, not in a worker
            axes.append((key, items))
        return cls(tuple(axes))

    def settings(self, base: BacktestSettings) -> list[BacktestSettings]:
        names = [name for name, _ in self.axes]
        runs = []
        for combination in itertools.product(*(values for _, values in self.axes)):
            changes: dict[str, Any] = {}
            filters = dict(base.filters)
            for name, value in zip(names, combination, strict=True):
                if name.startswith(FILTER_PREFIX):
                    filters[name.removeprefix(FILTER_PREFIX)] = _filter_value(value)
                else:
                    field_name, parsed = _setting(name, value)
                    changes[field_name] = parsed
            runs.append(replace(base, filters=filters, **changes))
        return runs

    def labels(self) -> list[str]:
        return [name for name, _ in self.axes]


def _keys() -> list[str]:
    return [*SECONDS_KEYS, *INT_KEYS, *DECIMAL_KEYS]


def _decimal(name: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise GridError(f"--sweep {name}: {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise GridError(f"--sweep {name}: {text!r} must be a non-negative number")
    return value


def _setting(name: str, text: str) -> tuple[str, Any]:
    if name in SECONDS_KEYS:
        return SECONDS_KEYS[name], int((_decimal(name, text) * 1000).to_integral_value())
    if name in INT_KEYS:
        value = _decimal(name, text)
        if value != value.to_integral_value():
            raise GridError(f"--sweep {name}: {text!r} must be a whole number")
        return INT_KEYS[name], int(value)
    return DECIMAL_KEYS[name], _decimal(name, text)


def _filter_value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null", ""):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


@dataclass(frozen=True, slots=True)
class Run:
    """One point of the grid and what it gave (amounts as decimal strings)."""

    index: int
    settings: dict[str, Any]
    figures: dict[str, Any]
    error: str = ""


@dataclass
class SweepResult:
    grid: Grid
    runs: list[Run] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "grid": {name: list(values) for name, values in self.grid.axes},
            "runs": [
                {
                    "settings": run.settings,
                    **run.figures,
                    **({"error": run.error} if run.error else {}),
                }
                for run in self.runs
            ],
        }


# --- the worker -----------------------------------------------------------------------------

_CACHED: Final = 4  # input sets a worker keeps (discovery hands it one per candidate)
_WORKER: dict[str, Any] = {"inputs": {}, "config": None}


def _start_worker(config: PolytailConfig | None) -> None:
    _WORKER["config"] = config


def _run_task(index: int, files: InputFiles, settings: BacktestSettings) -> Run:
    cached: dict[InputFiles, Inputs] = _WORKER["inputs"]
    inputs = cached.get(files)
    if inputs is None:
        if len(cached) >= _CACHED:
            cached.pop(next(iter(cached)))
        inputs = cached[files] = files.load()
    return run_settings(index, settings, inputs, _WORKER["config"])


def run_settings(
    index: int, settings: BacktestSettings, inputs: Inputs, config: PolytailConfig | None
) -> Run:
    from polytail.backtest.report import build  # noqa: PLC0415

    try:
        report = build(run_backtest(inputs, settings, config)).as_json()
    except Exception as error:  # one bad point must not lose the others
        return Run(index, settings.describe(), {}, f"{type(error).__name__}: {error}")
    follower, penalty, copyability = report["follower"], report["penalty"], report["copyability"]
    return Run(
        index,
        report["settings"],
        {
            "pnl": follower["pnl"],
            "roi": follower["roi"],
            "volume": follower["volume"],
            "max_drawdown": follower["max_drawdown"],
            "copies": follower["copies"],
            "skips": follower["skips"] + follower["unfilled"],
            "penalty": penalty["total"],
            "penalty_per_copy_bps_p50": penalty["per_copy_bps"]["p50"],
            "copyability": copyability["score"],
            "retained": copyability["retained"],
            "coverage": copyability["coverage"],
            "leader_pnl": str(
                sum((Decimal(row["pnl"]) for row in report["leaders"].values()), Decimal(0))
            ),
            "expected_pnl": penalty["expected_pnl"],
            "leader_markets": len(report["markets"]),
            "leader_markets_won": sum(
                1 for row in report["markets"] if Decimal(row["leader_pnl"]) > 0
            ),
        },
    )


def run_many(
    tasks: Sequence[tuple[InputFiles, BacktestSettings]],
    config: PolytailConfig | None = None,
    *,
    workers: int | None = None,
    on_done: Callable[[Run], None] | None = None,
) -> list[Run]:
    """Run independent backtests in a process pool (one worker per core by default);
    the results come back in the order of `tasks`."""
    if not tasks:
        return []
    count = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    done: dict[int, Run] = {}
    with ProcessPoolExecutor(
        max_workers=count, initializer=_start_worker, initargs=(config,)
    ) as pool:
        futures = [
            pool.submit(_run_task, index, files, settings)
            for index, (files, settings) in enumerate(tasks)
        ]
        for future in as_completed(futures):
            run = future.result()
            done[run.index] = run
            if on_done is not None:
                on_done(run)
    return [done[index] for index in range(len(tasks))]


def sweep(
    files: InputFiles,
    grid: Grid,
    base: BacktestSettings,
    config: PolytailConfig | None = None,
    *,
    workers: int | None = None,
    on_done: Callable[[Run], None] | None = None,
) -> SweepResult:
    """Every point of the grid, each an independent backtest of the same inputs."""
    tasks = [(files, settings) for settings in grid.settings(base)]
    return SweepResult(grid, run_many(tasks, config, workers=workers, on_done=on_done))


def progress_bar(total: int, label: str, *, stderr: bool = True) -> Any:
    """A rich progress bar (on stderr, so JSON on stdout stays clean) and its advance."""
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
    )

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=stderr),
    )
    task = progress.add_task(f"{label} ({os.cpu_count() or 1} cores)", total=total)
    return progress, lambda _: progress.advance(task)


def with_progress(
    files: InputFiles,
    grid: Grid,
    base: BacktestSettings,
    config: PolytailConfig | None = None,
    *,
    workers: int | None = None,
) -> SweepResult:
    """`sweep` with a progress bar."""
    progress, advance = progress_bar(len(grid.settings(base)), "backtests")
    with progress:
        return sweep(files, grid, base, config, workers=workers, on_done=advance)


def table_rows(result: SweepResult) -> list[Mapping[str, Any]]:
    """One flat row per run: the swept values, then the figures."""
    rows: list[Mapping[str, Any]] = []
    for run in result.runs:
        row: dict[str, Any] = {}
        for name in result.grid.labels():
            row[name] = _shown(run.settings, name)
        rows.append({**row, **run.figures, "error": run.error})
    return rows


def _shown(settings: Mapping[str, Any], name: str) -> Any:
    if name.startswith(FILTER_PREFIX):
        return settings["filters"].get(name.removeprefix(FILTER_PREFIX))
    key = {
        "latency": "latency_s",
        "jitter": "jitter_s",
        "slippage": "slippage_bps",
        "tolerance": "tolerance_bps",
        "depth": "depth_usdc",
    }.get(name, name)
    return settings.get(key)

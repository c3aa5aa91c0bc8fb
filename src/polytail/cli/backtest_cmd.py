"""`polytail backtest`: what if I had copied this wallet? (docs/BACKTEST.md)"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from polytail.cli.common import STATE, fail, load_config_or_exit

if TYPE_CHECKING:
    from polytail.backtest.settings import BacktestSettings
    from polytail.config.schema import PolytailConfig


def _decimal(text: str | None, flag: str, *, positive: bool = False) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        fail(f"{flag}: {text!r} is not a number", code=2)
    if not value.is_finite() or value < 0 or (positive and value == 0):
        fail(f"{flag}: expected a {'positive' if positive else 'non-negative'} number", code=2)
    return value


def _ms(text: str, flag: str) -> int:
    seconds = _decimal(text, flag)
    assert seconds is not None
    return int((seconds * 1000).to_integral_value())


def settings_from_options(
    *,
    latency: str,
    jitter: str,
    slippage: int,
    depth: str | None,
    ratio: str | None,
    tolerance: int | None,
    no_caps: bool,
    seed: int,
    leaders: list[str],
) -> BacktestSettings:
    from polytail.backtest.settings import BacktestSettings  # noqa: PLC0415
    from polytail.domain.ids import IdError, address  # noqa: PLC0415

    try:
        wallets = tuple(address(leader) for leader in leaders)
    except IdError as error:
        fail(f"--leader: {error}", code=2)
    if not 0 <= slippage < 10_000:
        fail("--slippage: expected basis points in [0, 10000)", code=2)
    try:
        return BacktestSettings(
            latency_ms=_ms(latency, "--latency"),
            jitter_ms=_ms(jitter, "--jitter"),
            slippage_bps=slippage,
            depth_usdc=_decimal(depth, "--depth", positive=True),
            caps=not no_caps,
            seed=seed,
            ratio=_decimal(ratio, "--ratio", positive=True),
            tolerance_bps=tolerance,
            leaders=wallets,
        )
    except ValueError as error:
        fail(str(error), code=2)


def _config(path: Path | None) -> PolytailConfig | None:
    """A configuration only when one is named (--config here, globally, or in the
    environment): without one the backtest copies every fill (neutral filters)."""
    chosen = path or STATE.config_path
    return load_config_or_exit(chosen) if chosen is not None else None


def backtest(  # noqa: PLR0917 - a Typer command: one parameter per option
    fills: Annotated[
        list[Path] | None,
        typer.Option(help="Recorded leader fills (repeatable).", show_default=False),
    ] = None,
    markets: Annotated[
        list[Path] | None,
        typer.Option(help="Market metadata: Gamma or CLOB JSON (repeatable).", show_default=False),
    ] = None,
    books: Annotated[
        list[Path] | None,
        typer.Option(
            help="Recorded order books: parquet or /book JSON (repeatable).", show_default=False
        ),
    ] = None,
    leader: Annotated[
        list[str] | None,
        typer.Option(help="Leader wallet to copy (repeatable; default: every wallet in --fills)."),
    ] = None,
    latency: Annotated[
        str, typer.Option(help="Seconds from the leader's fill to our order reaching the book.")
    ] = "2",
    jitter: Annotated[
        str, typer.Option(help="Extra latency, uniform in [0, S] seconds, drawn with --seed.")
    ] = "0",
    slippage: Annotated[
        int, typer.Option(help="Price model: bps a copy pays beyond the last traded price.")
    ] = 50,
    depth: Annotated[
        str | None,
        typer.Option(
            help="Price model: pUSD per book level (default: unlimited).", show_default=False
        ),
    ] = None,
    ratio: Annotated[
        str | None,
        typer.Option(
            help="Copy ratio x the leader's size (default: the config's sizing).",
            show_default=False,
        ),
    ] = None,
    tolerance: Annotated[
        int | None,
        typer.Option(
            help="Slippage tolerance of the copy's limit price, bps (pricing.slippage_bps).",
            show_default=False,
        ),
    ] = None,
    no_caps: Annotated[
        bool,
        typer.Option(
            "--no-caps",
            help="No risk limits and the ideal venue: copies are exactly ratio x the leader's "
            "fill, with no caps, cash limit, minimum size, share step or tick.",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of every random draw (latency jitter).")] = 0,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Use this configuration's filters, sizing and risk.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    report: Annotated[
        bool, typer.Option("--report", help="With --json, also print the summary (to stderr).")
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option(help="Write the HTML report (with plots) here.", show_default=False),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            help="Cache of fetched histories (default: <data_dir>/cache).", show_default=False
        ),
    ] = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Fetch histories again even when cached.")
    ] = False,
    sweep: Annotated[
        list[str] | None,
        typer.Option(
            "--sweep",
            help="Sweep a parameter: KEY=V1,V2,... with KEY one of latency, jitter, slippage, "
            "depth, ratio, tolerance, seed or filters.<key> (repeatable: every combination).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Sweep processes (default: one per core).", show_default=False),
    ] = None,
) -> None:
    """Replay leaders' histories through the engine and report what copying would have made.

    Fills: --fills (Data API activity or trades JSON/CSV, eth_getLogs, RTDS frames).

    Without --fills: each --leader's history from the Data API, cached for offline re-runs.

    Markets: --markets (Gamma or CLOB JSON) give ticks, minimums, fees and resolutions.

    Books: --books (resolvedkit parquet or CLOB /book JSON); elsewhere the price model.

    Deterministic for the same inputs and --seed. See docs/BACKTEST.md.
    """
    from polytail.app.logs import configure_logging  # noqa: PLC0415
    from polytail.backtest.html import render  # noqa: PLC0415
    from polytail.backtest.inputs import load_inputs  # noqa: PLC0415
    from polytail.backtest.report import build  # noqa: PLC0415
    from polytail.backtest.runner import run_backtest  # noqa: PLC0415

    configure_logging("WARNING")  # stderr; stdout stays the report (or one JSON object)
    settings = settings_from_options(
        latency=latency,
        jitter=jitter,
        slippage=slippage,
        depth=depth,
        ratio=ratio,
        tolerance=tolerance,
        no_caps=no_caps,
        seed=seed,
        leaders=leader or [],
    )
    user_config = _config(config)
    fill_files, market_files = list(fills or []), list(markets or [])
    fetched_problems: list[str] = []
    if not fill_files:
        if not settings.leaders:
            fail(
                "give --fills FILE (recorded fills) or --leader ADDR (fetched from the Data API)",
                code=2,
            )
        fill_files, extra, fetched_problems = _fetch(user_config, cache, settings, refresh)
        market_files += extra
    for path in [*fill_files, *market_files, *(books or [])]:
        if not path.exists():
            fail(f"{path}: no such file", code=2)
    if sweep:
        _sweep(
            sweep,
            fills=fill_files,
            markets=market_files,
            books=list(books or []),
            settings=settings,
            config=user_config,
            workers=workers,
            as_json=as_json,
        )
        return
    inputs = load_inputs(fill_files, market_files, list(books or []), settings.leaders)
    if fetched_problems:
        from dataclasses import replace  # noqa: PLC0415

        inputs = replace(inputs, problems=(*fetched_problems, *inputs.problems))
    if not inputs.fills:
        for problem in inputs.problems:
            typer.echo(f"polytail: {problem}", err=True)
        fail("no leader fills to replay (check the files and --leader)")
    result = build(run_backtest(inputs, settings, user_config))
    if html is not None:
        html.write_text(render(result), encoding="utf-8")
    if as_json:
        import json  # noqa: PLC0415

        typer.echo(json.dumps(result.as_json(), indent=2))
    if report or not as_json:
        from rich.console import Console  # noqa: PLC0415

        from polytail.backtest.terminal import summary  # noqa: PLC0415

        Console(stderr=as_json).print(summary(result))


def _fetch(
    config: PolytailConfig | None, cache: Path | None, settings: BacktestSettings, refresh: bool
) -> tuple[list[Path], list[Path], list[str]]:
    import asyncio  # noqa: PLC0415

    from polytail.backtest.history import Cache, fetch_histories  # noqa: PLC0415
    from polytail.config.schema import PolytailConfig  # noqa: PLC0415

    source = config or PolytailConfig()
    root = cache or source.resolved_data_dir / "cache"
    fetched = asyncio.run(
        fetch_histories(source.venue, Cache(root), list(settings.leaders), refresh=refresh)
    )
    if not fetched.activity:
        fail("could not fetch any leader history: " + "; ".join(fetched.problems))
    return fetched.activity, fetched.markets, fetched.problems


def _sweep(
    specs: list[str],
    *,
    fills: list[Path],
    markets: list[Path],
    books: list[Path],
    settings: BacktestSettings,
    config: PolytailConfig | None,
    workers: int | None,
    as_json: bool,
) -> None:
    from polytail.backtest.sweep import Grid, GridError, InputFiles, table_rows, with_progress  # noqa: PLC0415

    try:
        grid = Grid.parse(specs)
    except GridError as error:
        fail(str(error), code=2)
    files = InputFiles(tuple(fills), tuple(markets), tuple(books), settings.leaders)
    result = with_progress(files, grid, settings, config, workers=workers)
    if as_json:
        import json  # noqa: PLC0415

        typer.echo(json.dumps(result.as_json(), indent=2))
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    rows = table_rows(result)
    table = Table(title=f"Sweep: {len(rows)} backtests")
    columns = [
        *grid.labels(),
        "pnl",
        "roi",
        "max_drawdown",
        "copies",
        "skips",
        "penalty",
        "copyability",
    ]
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            *(str(row.get(column) if row.get(column) is not None else "-") for column in columns)
        )
    Console().print(table)
    for row in rows:
        if row["error"]:
            typer.echo(f"polytail: a sweep run failed: {row['error']}", err=True)

"""`polytail leaders`: the leaders you copy (`list`) and those worth copying (`discover`;
docs/BACKTEST.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from polytail.cli import status_cmds
from polytail.cli.backtest_cmd import settings_from_options
from polytail.cli.common import STATE, fail, load_config_or_exit

if TYPE_CHECKING:
    from polytail.backtest.discover import Candidate, DiscoverSettings, Discovery
    from polytail.backtest.history import Cache
    from polytail.backtest.sweep import InputFiles
    from polytail.config.schema import PolytailConfig
    from polytail.domain.ids import Address

app = typer.Typer(
    help="Leaders: the wallets you copy, and finding wallets worth copying.", no_args_is_help=True
)
app.command("list")(status_cmds.leaders_list)


@app.command("discover")
def discover(  # noqa: PLR0917 - a Typer command: one parameter per option
    category: Annotated[
        list[str] | None,
        typer.Option(help="Leaderboard category, e.g. OVERALL, POLITICS, SPORTS (repeatable)."),
    ] = None,
    period: Annotated[
        list[str] | None,
        typer.Option(help="Leaderboard period: DAY, WEEK, MONTH, ALL (repeatable)."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Candidates per leaderboard list.")] = 20,
    leaderboard: Annotated[
        Path | None,
        typer.Option(
            help="Read candidates from this leaderboard JSON instead.", show_default=False
        ),
    ] = None,
    latency: Annotated[str, typer.Option(help="Backtest latency, seconds.")] = "2",
    slippage: Annotated[int, typer.Option(help="Price model slippage, bps.")] = 50,
    ratio: Annotated[
        str | None,
        typer.Option(help="Copy ratio (default: the config's sizing).", show_default=False),
    ] = None,
    no_caps: Annotated[
        bool, typer.Option("--no-caps", help="Backtest without risk limits (the ideal venue).")
    ] = False,
    min_fills: Annotated[
        int, typer.Option(help="Fewer fills than this is flagged few_fills.")
    ] = 30,
    top: Annotated[int, typer.Option(help="Leaders in the config snippet.")] = 5,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Configuration (venue URLs, filters, sizing).", show_default=False
        ),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(help="History cache (default: <data_dir>/cache).", show_default=False),
    ] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Fetch histories again.")] = False,
    workers: Annotated[
        int | None, typer.Option(help="Processes (default: one per core).", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score leaderboard wallets by backtesting their histories; flag the uncopyable ones.

    Prints a ranked table and a config snippet of the best unflagged leaders.
    """
    import asyncio  # noqa: PLC0415

    from polytail.app.logs import configure_logging  # noqa: PLC0415
    from polytail.backtest.discover import DiscoverSettings, from_file  # noqa: PLC0415
    from polytail.backtest.history import Cache  # noqa: PLC0415
    from polytail.backtest.sweep import progress_bar  # noqa: PLC0415
    from polytail.config.schema import PolytailConfig  # noqa: PLC0415

    configure_logging("WARNING")
    backtest = settings_from_options(
        latency=latency,
        jitter="0",
        slippage=slippage,
        depth=None,
        ratio=ratio,
        tolerance=None,
        no_caps=no_caps,
        seed=0,
        leaders=[],
    )
    chosen = config or STATE.config_path
    user_config = load_config_or_exit(chosen) if chosen is not None else None
    source = user_config or PolytailConfig()
    settings = DiscoverSettings(
        categories=tuple(category or ["OVERALL"]),
        periods=tuple(period or ["MONTH"]),
        limit=limit,
        min_fills=min_fills,
        backtest=backtest,
    )
    problems: list[str] = []
    candidates = from_file(leaderboard, problems) if leaderboard is not None else None
    cache_root = Cache(cache or source.resolved_data_dir / "cache")
    candidates, files = asyncio.run(
        _gather(
            source, cache_root, settings, candidates=candidates, problems=problems, refresh=refresh
        )
    )
    if not candidates:
        fail("no candidates: " + ("; ".join(problems) or "the leaderboard is empty"))
    from polytail.backtest.discover import score  # noqa: PLC0415

    progress, advance = progress_bar(2 * len(candidates), "backtests")
    with progress:
        result = score(candidates, files, settings, user_config, workers=workers, on_done=advance)
    result.problems[:0] = problems
    _print(result, top, as_json)


async def _gather(
    source: PolytailConfig,
    cache: Cache,
    settings: DiscoverSettings,
    *,
    candidates: list[Candidate] | None,
    problems: list[str],
    refresh: bool,
) -> tuple[list[Candidate], dict[Address, tuple[InputFiles, list[str]]]]:
    from polytail.backtest.discover import from_leaderboard, gather  # noqa: PLC0415
    from polytail.venue.clients import VenueClients  # noqa: PLC0415

    venue = VenueClients.from_settings(source.venue)
    try:
        if candidates is None:
            candidates = await from_leaderboard(
                venue,
                settings.categories,
                settings.periods,
                limit=settings.limit,
                problems=problems,
            )
        files = await gather(venue, cache, candidates, refresh=refresh)
    finally:
        await venue.close()
    return candidates, files


def _print(result: Discovery, top: int, as_json: bool) -> None:
    if as_json:
        import json  # noqa: PLC0415

        typer.echo(json.dumps({**result.as_json(), "snippet": result.snippet(top)}, indent=2))
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(title="Leader candidates, scored by backtesting their histories")
    for column in (
        "#",
        "wallet",
        "name",
        "score",
        "copyability",
        "consistency",
        "fills",
        "days idle",
        "leader PnL",
        "follower PnL",
        "flags",
    ):
        table.add_column(
            column, justify="right" if column not in ("wallet", "name", "flags") else "left"
        )
    for rank, scored in enumerate(result.ranked(), start=1):
        data = scored.as_json()
        table.add_row(
            str(rank),
            data["wallet"],
            data["name"],
            data["score"],
            data["copyability"],
            data["consistency"],
            str(data["fills"]),
            str(data["days_since_last_fill"] or "-"),
            str(data["leader_pnl"] or "-"),
            str(data["follower_pnl"] or "-"),
            ", ".join(data["flags"]) or "-",
        )
    console = Console()
    console.print(table)
    for problem in result.problems[:20]:
        console.print(f"[yellow]{problem}[/yellow]")
    console.print("\n# polytail.toml: the best unflagged candidates")
    console.print(result.snippet(top), markup=False, highlight=False)

"""`polytail feeds replay`: recorded files through the merger, each fill once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from polytail.cli.common import fail

if TYPE_CHECKING:
    from polytail.feeds.replay import ReplayResult

app = typer.Typer(help="Leader-fill detection: inspect and replay feeds.", no_args_is_help=True)


@app.command("replay")
def replay(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Data API /activity or /trades JSON (v1, v2) or CSV, eth_getLogs results, "
            "RTDS frames (JSON lines or array). The format is read from the content.",
            show_default=False,
        ),
    ],
    wallet: Annotated[
        list[str] | None,
        typer.Option(
            "--wallet", "-w", help="Only this wallet's fills (repeatable; default: every wallet)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per fill on stdout (JSON lines).")
    ] = False,
) -> None:
    """Merge recorded files and print each leader fill once, in venue-time order.

    Rejected rows and unreadable files are listed on stderr with the reason.

    Exit code: 0 nothing rejected, 1 something rejected (fills still printed), 2 bad argument.
    """
    from polytail.domain.ids import IdError  # noqa: PLC0415
    from polytail.feeds.replay import replay_files  # noqa: PLC0415

    try:
        result = replay_files(files, wallet)
    except IdError as bad:
        fail(f"--wallet: {bad}", code=2)
    for _, message in result.broken:
        typer.echo(f"polytail: cannot replay {message}", err=True)
    for path, error in result.rejects:
        row = str(error.row)
        typer.echo(
            f"polytail: rejected a row of {path}: {error}; row: {row[:200]}"
            + ("…" if len(row) > 200 else ""),
            err=True,
        )
    if as_json:
        _print_json(result)
    else:
        _print_table(result)
    raise typer.Exit(0 if result.clean else 1)


def _print_json(result: ReplayResult) -> None:
    import sys  # noqa: PLC0415

    import orjson  # noqa: PLC0415

    from polytail.feeds.replay import fill_record  # noqa: PLC0415

    write = sys.stdout.write
    for fill in result.fills:
        write(orjson.dumps(fill_record(fill)).decode())
        write("\n")


def _print_table(result: ReplayResult) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    files = Table(title="Files", title_justify="left")
    for column in ("file", "format", "rows", "sightings", "rejected", "not trades"):
        files.add_column(column, justify="left" if column in ("file", "format") else "right")
    for found in result.files:
        files.add_row(
            str(found.path),
            found.kind,
            str(found.rows),
            str(len(found.fills)),
            str(len(found.rejects)),
            str(sum(found.ignored.values())),
        )
    for path, _ in result.broken:
        files.add_row(str(path), "unreadable", "-", "-", "-", "-")
    fills = Table(title="Merged fills", title_justify="left")
    for column in ("wallet", "fills", "buys", "sells", "shares bought", "shares sold"):
        fills.add_column(column, justify="left" if column == "wallet" else "right")
    per_wallet: dict[str, list[int]] = {}
    for fill in result.fills:
        row = per_wallet.setdefault(fill.wallet, [0, 0, 0, 0, 0])
        row[0] += 1
        if fill.side.value == "BUY":
            row[1] += 1
            row[3] += fill.size.units
        else:
            row[2] += 1
            row[4] += fill.size.units
    from polytail.domain.money import format_units  # noqa: PLC0415

    for wallet, (count, buys, sells, bought, sold) in sorted(per_wallet.items()):
        fills.add_row(
            wallet, str(count), str(buys), str(sells), format_units(bought), format_units(sold)
        )
    console = Console()
    console.print(files)
    console.print(fills)
    console.print(
        f"{len(result.fills)} unique fills; {result.duplicates} repeated sightings merged, "
        f"{result.absorbed} covered by another source's report; "
        f"{len(result.rejects)} rows rejected."
    )

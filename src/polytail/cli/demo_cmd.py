"""`polytail demo`: copy the local exchange's demo leaders in paper mode, offline.

Interactive: a live terminal view (rich) of leader fills, decisions with their reasons,
orders, positions and PnL; Ctrl-C ends it with a summary. `--duration S --json`: no
view, the summary as JSON after S seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from polytail.cli.common import fail

if TYPE_CHECKING:
    from rich.console import RenderableType

    from polytail.app.demo import DemoRecorder
    from polytail.app.runner import RunContext, Surface
    from polytail.config.schema import PolytailConfig

REFRESH_S = 0.5


def demo(
    duration: Annotated[
        float | None,
        typer.Option(help="Stop after this many seconds (default: run until Ctrl-C).", min=1),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="No live view; print the summary as JSON at the end.")
    ] = False,
    speed: Annotated[
        float,
        typer.Option(
            help="Scenario seconds per real second (2: leaders trade twice as often).",
            min=0.1,
            max=20,
        ),
    ] = 1.0,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Keep the demo's database here (default: a temporary folder)."),
    ] = None,
    show_config: Annotated[
        bool, typer.Option("--show-config", help="Print the demo's configuration first.")
    ] = False,
) -> None:
    """Run polytail offline against the local exchange, copying its demo leaders (paper)."""
    import asyncio  # noqa: PLC0415

    from polytail.app.demo import run_demo  # noqa: PLC0415
    from polytail.app.lock import AlreadyRunning  # noqa: PLC0415
    from polytail.app.logs import configure_logging  # noqa: PLC0415

    configure_logging("WARNING")
    lines: list[str] = []

    def say(line: str) -> None:
        if as_json:
            lines.append(line)  # stdout carries only the JSON
        else:
            typer.echo(line)

    def on_config(config: PolytailConfig) -> None:
        if show_config:
            _print_config(config, err=as_json)

    try:
        summary = asyncio.run(
            run_demo(
                duration_s=duration,
                speed=speed,
                data_dir=data_dir,
                view=None if as_json else _live_view,
                say=say,
                on_config=on_config,
            )
        )
    except AlreadyRunning as error:
        fail(str(error))
    if as_json:
        import orjson  # noqa: PLC0415

        typer.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
    else:
        _print_summary(summary)


def _print_config(config: PolytailConfig, *, err: bool) -> None:
    import tomli_w  # noqa: PLC0415

    typer.echo("# the demo's configuration", err=err)
    typer.echo(tomli_w.dumps(config.model_dump(mode="json", exclude_none=True)), err=err)


# --- the live view ----------------------------------------------------------------------


class LiveView:
    """A rich `Live` display refreshed from the recorder and the service."""

    name = "live-view"
    stops_before_engine = True

    def __init__(self, recorder: DemoRecorder, context: RunContext) -> None:
        self.recorder = recorder
        self.context = context
        self._task: Any = None
        self._live: Any = None
        self._money: RenderableType = ""

    async def start(self) -> None:
        import asyncio  # noqa: PLC0415

        from rich.live import Live  # noqa: PLC0415

        self._live = Live(self._render(), refresh_per_second=4, screen=False, transient=False)
        self._live.start()
        self._task = asyncio.create_task(self._refresh())

    async def stop(self) -> None:
        import contextlib  # noqa: PLC0415

        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self._live is not None:
            self._live.stop()

    async def reload(self, config: PolytailConfig) -> None:
        return None

    def describe(self) -> str:
        return "live view: leader fills, decisions, orders, positions, PnL (Ctrl-C ends it)"

    async def _refresh(self) -> None:
        import asyncio  # noqa: PLC0415

        while True:
            try:
                self._money = await self._positions()
            except Exception as error:  # the view must never take the demo down
                self._money = f"(positions unavailable: {error})"
            self._live.update(self._render())
            await asyncio.sleep(REFRESH_S)

    async def _positions(self) -> RenderableType:
        from rich.table import Table  # noqa: PLC0415

        service = self.context.service
        status = await service.status()
        table = Table(
            title=f"Positions · cash {status.cash} · equity {status.equity} · PnL "
            f"{status.pnl_total.realized} realized, {status.pnl_total.unrealized} open",
            title_justify="left",
            expand=True,
        )
        for column in ("market", "outcome", "shares", "cost", "mark", "PnL"):
            table.add_column(column, justify="left" if column in ("market", "outcome") else "right")
        for view in (await service.positions())[: self._rows()]:
            table.add_row(
                view.market[:40],
                view.outcome,
                str(view.shares),
                str(view.cost),
                "-" if view.mark is None else str(view.mark),
                "-" if view.unrealized_pnl is None else str(view.unrealized_pnl),
            )
        return table

    def _rows(self) -> int:
        """Rows per panel, so that the whole view fits the terminal (four panels)."""
        height = self._live.console.height if self._live is not None else 40
        return max(2, min(8, (height - 22) // 4))

    def _render(self) -> RenderableType:
        from rich.console import Group  # noqa: PLC0415
        from rich.panel import Panel  # noqa: PLC0415
        from rich.table import Table  # noqa: PLC0415

        recorder = self.recorder
        rows = self._rows()
        fills = Table(expand=True, show_edge=False)
        for column in ("leader", "side", "shares", "price", "market"):
            fills.add_column(column)
        for fill in list(recorder.fills)[:rows]:
            fills.add_row(
                recorder.label(fill.wallet),
                fill.side.value,
                str(fill.size),
                str(fill.price),
                f"{fill.slug} · {fill.outcome}"[:44],
            )
        decisions = Table(expand=True, show_edge=False)
        for column in ("leader", "action", "reasons"):
            decisions.add_column(column)
        for decision in list(recorder.decisions)[:rows]:
            style = "green" if decision.is_copy else "yellow"
            decisions.add_row(
                recorder.label(decision.leader),
                f"[{style}]{decision.action.value}[/]",
                ", ".join(decision.reasons),
            )
        orders = Table(expand=True, show_edge=False)
        for column in ("state", "side", "type", "size", "limit", "filled"):
            orders.add_column(column)
        for order in recorder.recent_orders()[:rows]:
            intent = order.intent
            orders.add_row(
                order.state.value,
                intent.side.value,
                intent.order_type.value,
                str(intent.size),
                str(intent.limit_price),
                str(order.filled),
            )
        header = (
            f"[bold][PAPER] polytail demo[/] · fills seen {recorder.fills_seen} · copies "
            f"{recorder.copies} · skips {sum(recorder.skips.values())} · trades {recorder.trades}"
        )
        return Group(
            header,
            Panel(fills, title="leader fills"),
            Panel(decisions, title="decisions (why)"),
            Panel(orders, title="orders"),
            self._money,
        )


def _live_view(recorder: DemoRecorder, context: RunContext) -> list[Surface]:
    return [LiveView(recorder, context)]


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    console = Console()
    table = Table(title="[PAPER] demo summary", title_justify="left")
    table.add_column("item")
    table.add_column("value", justify="right")
    pnl = summary["pnl"]
    for name, value in (
        ("ran", f"{summary['duration_s']} s"),
        ("leader fills seen", summary["fills_seen"]),
        ("copies", summary["copies"]),
        ("skips", ", ".join(f"{k} {v}" for k, v in summary["skips"].items()) or "0"),
        ("orders", ", ".join(f"{k} {v}" for k, v in summary["orders"].items()) or "0"),
        ("positions", len(summary["positions"])),
        ("cash / equity", f"{summary['cash']} / {summary['equity']} pUSD"),
        ("PnL", f"{pnl['total']} ({pnl['realized']} realized, {pnl['unrealized']} open)"),
    ):
        table.add_row(name, str(value))
    console.print(table)

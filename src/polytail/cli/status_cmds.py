"""`polytail status`, `positions`, `orders`, `leaders list`, `decisions`, `audit`, `kill`.

Each reads the store through the service layer (`app.operator.offline_service`), the same
code the dashboard and Telegram use, and prints a table (rich) or `--json`. Both show the
mode: a `[PAPER]`/`[LIVE]` title, or a top-level `"mode"` key. They work whether or not an
engine runs: the store is the record (figures are valued at cost offline; the running
engine's dashboard shows them at market).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from polytail.cli.common import fail, load_config_or_exit

if TYPE_CHECKING:
    from rich.table import Table

    from polytail.app.operator import StoreService
    from polytail.config.schema import PolytailConfig

T = TypeVar("T")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (money as decimal strings).")]


def _with_service(
    work: Callable[[StoreService], Coroutine[Any, Any, T]],
) -> tuple[PolytailConfig, T]:
    """The config and what `work` reads from the store (no engine runs)."""
    import asyncio  # noqa: PLC0415

    from polytail.app.operator import offline_service  # noqa: PLC0415

    config = load_config_or_exit()
    with offline_service(config) as service:
        return config, asyncio.run(work(service))


def _print_json(config: PolytailConfig, key: str, value: object) -> None:
    import orjson  # noqa: PLC0415

    from polytail.app.jsonable import jsonable  # noqa: PLC0415

    body = {"mode": config.mode.value, "account": config.account, key: jsonable(value)}
    typer.echo(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())


def _table(config: PolytailConfig, title: str, columns: Sequence[str]) -> Table:
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"[{config.mode.value.upper()}] {title}", title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column[0].isalpha() else "right")
    return table


def _show(*renderables: Any) -> None:
    from rich.console import Console  # noqa: PLC0415

    console = Console()
    for renderable in renderables:
        console.print(renderable)


def _time(ms: int | None) -> str:
    if ms is None:
        return "-"
    import datetime as dt  # noqa: PLC0415

    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _opt(value: object | None) -> str:
    return "-" if value is None else str(value)


# --- commands -----------------------------------------------------------------------------


def status(as_json: JsonOption = False) -> None:
    """Mode, cash, equity, exposure, PnL, positions, open orders, breakers, kill switch."""

    config, view = _with_service(lambda service: service.status())
    if as_json:
        _print_json(config, "status", view)
        return
    table = _table(config, f"status of account {view.account}", ("item", "value"))
    rows = [
        ("cash", f"{view.cash} pUSD"),
        ("equity", f"{view.equity} pUSD (positions at cost when no engine runs here)"),
        ("exposure", f"{view.exposure} pUSD"),
        ("PnL today", f"{view.pnl_today.realized} realized, {view.pnl_today.unrealized} open"),
        ("PnL total", f"{view.pnl_total.realized} realized, {view.pnl_total.unrealized} open"),
        ("positions", str(view.positions)),
        ("open orders", str(view.open_orders)),
        (
            "kill switch",
            f"ENGAGED by {view.kill_switch.source} since {_time(view.kill_switch.since_ms)}"
            if view.kill_switch.engaged
            else "off",
        ),
        ("breakers", ", ".join(f"{b.reason} ({b.leader or 'all'})" for b in view.breakers) or "-"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    _show(table)


def positions(as_json: JsonOption = False) -> None:
    """Open positions: shares, cost, mark, value, PnL, and the part bought for each leader."""

    config, views = _with_service(lambda service: service.positions())
    if as_json:
        _print_json(config, "positions", views)
        return
    table = _table(
        config,
        "positions",
        ("market", "outcome", "#shares", "#cost", "#avg", "#mark", "#unrealized", "leaders"),
    )
    for view in views:
        table.add_row(
            view.market,
            view.outcome,
            str(view.shares),
            str(view.cost),
            _opt(view.average_cost),
            _opt(view.mark),
            _opt(view.unrealized_pnl),
            ", ".join(f"{share.label} {share.shares}" for share in view.by_leader),
        )
    _show(table, f"{len(views)} open position(s)")


def orders(
    all_orders: Annotated[
        bool, typer.Option("--all", help="Every order, not only those that can still fill.")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Orders, newest first (open ones unless --all)."""

    config, views = _with_service(
        lambda service: service.orders(open_only=not all_orders, limit=limit)
    )
    if as_json:
        _print_json(config, "orders", views)
        return
    table = _table(
        config,
        "orders" if all_orders else "open orders",
        ("created", "state", "side", "type", "#limit", "#size", "#filled", "market", "leader"),
    )
    for view in views:
        intent = view.order.intent
        table.add_row(
            _time(intent.created_at_ms),
            view.order.state.value,
            intent.side.value,
            intent.order_type.value,
            str(intent.limit_price),
            str(intent.size),
            str(view.order.filled),
            f"{view.market} · {view.outcome}" if view.outcome else view.market,
            view.leader_label,
        )
    _show(table)


def leaders_list(as_json: JsonOption = False) -> None:
    """The configured leaders: copies, skips, PnL, budget used, paused or not."""

    config, views = _with_service(lambda service: service.leaders())
    if as_json:
        _print_json(config, "leaders", views)
        return
    table = _table(
        config,
        "leaders",
        (
            "leader",
            "address",
            "copying",
            "#copies",
            "#skips",
            "#realized",
            "#budget used",
            "last fill",
        ),
    )
    for view in views:
        state = "yes" if view.copying else ("paused" if view.paused else "disabled")
        table.add_row(
            view.label,
            view.address,
            state,
            str(view.copies),
            str(view.skips),
            str(view.realized_pnl),
            f"{view.budget_used} / {view.budget}",
            _time(view.last_fill_at_ms),
        )
    _show(table)


def decisions(
    why: Annotated[
        str | None,
        typer.Option("--why", help="Every decision about this leader fill id, with reasons."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 30,
    as_json: JsonOption = False,
) -> None:
    """Recent copy/skip decisions with their reasons; --why FILL_ID explains one fill."""
    from polytail.domain.ids import FillId  # noqa: PLC0415

    config, views = _with_service(
        lambda service: service.decisions(limit=limit, why=FillId(why) if why else None)
    )
    if as_json:
        _print_json(config, "decisions", views)
        return
    if why and not views:
        fail(f"no decision about fill {why}: it was never seen, or belongs to another account")
    table = _table(
        config,
        f"decisions about fill {why}" if why else "recent decisions",
        ("decided", "action", "leader", "market", "reasons", "fill"),
    )
    for view in views:
        decision = view.decision
        table.add_row(
            _time(decision.decided_at_ms),
            decision.action.value,
            view.leader_label,
            f"{view.market} · {view.outcome}" if view.outcome else view.market,
            "\n".join(view.explanations) if why else ", ".join(decision.reasons),
            decision.fill_id or "-",
        )
    _show(table)
    if why and views and views[0].decision.detail:
        _show(f"detail: {views[0].decision.detail}")


def audit(
    limit: Annotated[int, typer.Option(help="At most this many entries, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The audit log: starts and stops, config reloads, kill switch, pauses, every order change."""
    from polytail.app.operator import offline_service  # noqa: PLC0415

    config = load_config_or_exit()
    with offline_service(config) as service, service.store.read() as tx:
        entries = tx.audit.trail(account=service.account, limit=limit)
    if as_json:
        _print_json(config, "audit", entries)
        return
    table = _table(config, "audit log", ("at", "actor", "action", "subject", "detail"))
    for entry in entries:
        detail = ", ".join(f"{k}={v}" for k, v in entry.detail.items() if v not in ("", None))
        table.add_row(_time(entry.at_ms), entry.actor, entry.action, entry.subject, detail)
    _show(table)


def kill(
    state: Annotated[str, typer.Argument(help="on, off, or status.", metavar="on|off|status")],
) -> None:
    """Engage or release the kill switch (no new order at all while engaged, exits included).

    It is the file DATA_DIR/<risk.kill_switch_file>: a running `polytail run` notices the
    change within a second, and it stays engaged across restarts until released.
    """
    from polytail.app.operator import offline_service  # noqa: PLC0415

    if state not in ("on", "off", "status"):
        fail("say `polytail kill on`, `polytail kill off` or `polytail kill status`", code=2)
    config = load_config_or_exit()
    badge = f"[{config.mode.value.upper()}]"
    with offline_service(config) as service:
        controls = service.controls
        switch = controls.kill if state == "status" else controls.set_kill(state == "on", by="cli")
    if switch.engaged:
        typer.echo(
            f"{badge} kill switch ENGAGED (by {switch.source}, {_time(switch.since_ms)}): "
            f"no new order is sent. File: {controls.path}"
        )
    else:
        typer.echo(f"{badge} kill switch off: orders are sent normally")

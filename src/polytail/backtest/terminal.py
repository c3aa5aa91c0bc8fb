"""The backtest report as a terminal summary (rich): the numbers a reader needs first."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from polytail.backtest.report import Report

MARKET_ROWS = 10


def _signed(value: str | None) -> Text:
    if value is None:
        return Text("-", style="dim")
    style = "red" if value.startswith("-") else "green"
    return Text(value, style=style)


def summary(report: Report) -> RenderableType:
    data = report.as_json()
    settings = data["settings"]
    header = Text.assemble(
        ("polytail backtest", "bold"),
        f"  {data['inputs']['fills']} fills, {data['inputs']['leaders']} leader(s), "
        f"{data['inputs']['markets']} markets, {data['period']['start']} → "
        f"{data['period']['end']}\n",
        f"latency {settings['latency_s']} s, slippage {settings['slippage_bps']} bps, "
        f"ratio {settings['ratio'] or 'from config'}, caps {'on' if settings['caps'] else 'off'} "
        f"({settings['venue']} venue), seed {settings['seed']}\n",
        (f"price model: {data['price_model']}", "dim"),
    )
    return Group(
        Panel(header),
        _sides(data),
        _penalty(data),
        _leaders(data),
        _markets(data),
        _reasons(data["follower"]["skip_reasons"]),
        *_problems(data),
    )


def _sides(data: dict[str, Any]) -> Table:
    table = Table(title="Leaders vs follower (held to resolution)", title_justify="left")
    table.add_column("")
    table.add_column("leaders (own fills)", justify="right")
    table.add_column("follower (copies)", justify="right")
    leader = data["leaders_combined"]
    follower = data["follower"]
    for label, key in (
        ("PnL", "pnl"),
        ("ROI", "roi"),
        ("volume", "volume"),
        ("bought", "bought"),
        ("max drawdown", "max_drawdown"),
        ("win rate", "win_rate"),
        ("median holding (h)", "holding_hours_median"),
    ):
        left, right = leader.get(key), follower.get(key)
        if key in ("pnl", "roi"):
            table.add_row(label, _signed(left), _signed(right))
        else:
            table.add_row(label, left or "-", right or "-")
    table.add_row(
        "copies / unfilled / skips",
        "",
        f"{follower['copies']} / {follower['unfilled']} / {follower['skips']}",
    )
    return table


def _penalty(data: dict[str, Any]) -> Table:
    penalty, copyability = data["penalty"], data["copyability"]
    per_copy = penalty["per_copy_bps"]
    table = Table(title="Penalty of copying and copyability", title_justify="left")
    table.add_column("")
    table.add_column("", justify="right")
    table.add_row("expected (scale x leader PnL)", penalty["expected_pnl"])
    table.add_row("penalty total", _signed(penalty["total"]))
    table.add_row("  price (paid beyond the leader)", penalty["price"])
    table.add_row("  fees", penalty["fees"])
    table.add_row("  missed (skips, sizes, caps, exits)", penalty["missed"])
    table.add_row(
        "per copy (bps) p10 / p50 / p90",
        f"{per_copy['p10'] or '-'} / {per_copy['p50'] or '-'} / {per_copy['p90'] or '-'}",
    )
    table.add_row(
        "copyability (0-100)",
        f"{copyability['score']}  (retained {copyability['retained']}, coverage "
        f"{copyability['coverage']}, confidence {copyability['confidence']})",
    )
    return table


def _leaders(data: dict[str, Any]) -> Table:
    table = Table(title="Per leader", title_justify="left")
    for column in ("leader", "fills", "own PnL", "follower PnL", "penalty", "copyability"):
        table.add_column(column, justify="left" if column == "leader" else "right")
    for wallet, row in data["leaders"].items():
        table.add_row(
            row["name"] or wallet,
            str(row["fills"]),
            _signed(row["pnl"]),
            _signed(row["follower"]["pnl"]),
            row["penalty"],
            row["copyability"]["score"],
        )
    return table


def _markets(data: dict[str, Any]) -> Table:
    rows = data["markets"]
    table = Table(
        title=f"Markets (top {min(MARKET_ROWS, len(rows))} of {len(rows)} by leader PnL)",
        title_justify="left",
    )
    for column in ("market", "leader PnL", "follower PnL", "copies", "skips", "penalty"):
        table.add_column(column, justify="left" if column == "market" else "right", max_width=60)
    for row in rows[:MARKET_ROWS]:
        table.add_row(
            row["title"],
            _signed(row["leader_pnl"]),
            _signed(row["follower_pnl"]),
            str(row["copies"]),
            str(row["skips"]),
            row["penalty"],
        )
    return table


def _reasons(reasons: dict[str, int]) -> Table:
    table = Table(title="Why fills were not copied", title_justify="left")
    table.add_column("reason")
    table.add_column("fills", justify="right")
    for reason, count in reasons.items():
        table.add_row(reason, str(count))
    if not reasons:
        table.add_row("(every fill was copied)", "")
    return table


def _problems(data: dict[str, Any]) -> list[RenderableType]:
    lines = [*data["problems"], *data["errors"]]
    if not lines:
        return []
    return [Panel("\n".join(lines[:20]), title="input problems and engine errors", style="yellow")]

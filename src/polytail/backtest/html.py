"""The backtest report as one self-contained HTML page with inline SVG plots.

Three plots: the PnL curve (follower, and the leaders' own fills at the copy scale),
the follower's drawdown, and the distribution of the per-copy penalty. The charts are
drawn here as plain SVG (polylines, rectangles, text): three fixed chart types need
about a hundred lines, the page works offline and from a file (no CDN, no script), the
output is deterministic for a given report, and it adds no plotting dependency to an
engine that otherwise has none (docs/ARCHITECTURE.md, "Libraries").

Plot coordinates are floats (pixels); every number printed on the page comes from the
report's exact decimal strings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import Any, Final

from polytail.backtest.curve import downsample
from polytail.backtest.report import Report

WIDTH: Final = 880
HEIGHT: Final = 280
PAD_LEFT: Final = 78
PAD_RIGHT: Final = 16
PAD_TOP: Final = 16
PAD_BOTTOM: Final = 34
FOLLOWER_COLOR: Final = "#1f6feb"
LEADER_COLOR: Final = "#8a8f98"
LOSS_COLOR: Final = "#d1242f"
BINS: Final = 30
PLOT_POINTS: Final = 1500

Point = tuple[float, float]

_STYLE: Final = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto;
       max-width: 920px; color: #1f2328; padding: 0 12px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.muted { color: #59636e; } figure { margin: 12px 0; } figcaption { color: #59636e; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 10px;
  border-bottom: 1px solid #d1d9e0; text-align: right; } th { background: #f6f8fa; }
td:first-child, th:first-child { text-align: left; }
.pos { color: #1a7f37; } .neg { color: #d1242f; }
svg text { font: 11px system-ui, sans-serif; fill: #59636e; }
dl dt { font-weight: 600; margin-top: 6px; } dl dd { margin-left: 16px; }
"""


def render(report: Report) -> str:
    """The whole page."""
    data = report.as_json()
    record = report.record
    follower = record.follower_curves.combined.points
    scale = report.penalty.scale
    leader = [(at, value * scale) for at, value in record.leader_curves.combined.points]
    drawdown = downsample(_drawdown(follower), PLOT_POINTS)
    follower = downsample(follower, PLOT_POINTS)
    leader = downsample(leader, PLOT_POINTS)
    settings = data["settings"]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>polytail backtest</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>polytail backtest</h1>",
        f'<p class="muted">{data["inputs"]["fills"]} leader fills, '
        f"{data['inputs']['leaders']} leader(s), {data['inputs']['markets']} markets, "
        f"{escape(str(data['period']['start']))} to {escape(str(data['period']['end']))}. "
        f"Latency {settings['latency_s']} s, slippage {settings['slippage_bps']} bps, ratio "
        f"{escape(str(settings['ratio'] or 'from the configuration'))}, caps "
        f"{'on' if settings['caps'] else 'off'} ({settings['venue']} venue), seed "
        f"{settings['seed']}.</p>",
        f'<p class="muted">Price model: {escape(data["price_model"])}.</p>',
        _summary_table(data),
        "<h2>PnL over time</h2>",
        _figure(
            "equity-curve",
            line_chart(
                [("leaders x scale", LEADER_COLOR, leader), ("follower", FOLLOWER_COLOR, follower)],
                label="PnL (pUSD) over time: follower and the leaders' own fills at the copy scale",
            ),
            "Follower PnL (blue) over the leaders' own PnL at the copy scale (grey), holdings "
            "marked at the last traded price, resolved positions at their payout.",
        ),
        "<h2>Drawdown</h2>",
        _figure(
            "drawdown",
            line_chart(
                [("drawdown", LOSS_COLOR, drawdown)],
                label="Follower drawdown from its running peak (pUSD)",
                fill=True,
            ),
            f"Fall of the follower's PnL from its running peak; the largest is "
            f"{escape(data['follower']['max_drawdown'])} pUSD.",
        ),
        "<h2>Penalty per copy</h2>",
        _figure(
            "penalty-distribution",
            histogram(
                [float(value) for value in report.penalty.per_copy_bps],
                label="Distribution of the per-copy penalty in bps of the copy's notional",
            ),
            "What each copy paid beyond the leader's price (plus fees), in basis points of "
            "its notional at the leader's price. Positive: worse than the leader.",
        ),
        _penalty_table(data),
        _leaders_table(data),
        _markets_table(data),
        _reasons_table(data),
        _problems(data),
        _definitions(),
        "</body></html>",
    ]
    return "\n".join(parts)


# --- charts ---------------------------------------------------------------------------------


def line_chart(
    series: Sequence[tuple[str, str, Sequence[tuple[int, Decimal]]]],
    *,
    label: str,
    fill: bool = False,
) -> str:
    """Lines over time (x: ms, y: pUSD), with axes and a legend."""
    values = [(at, float(value)) for _, _, points in series for at, value in points]
    if not values:
        return _empty(label)
    xs = [at for at, _ in values]
    ys = [value for _, value in values]
    x0, x1 = min(xs), max(xs)
    y_ticks = _nice_ticks(min(0.0, *ys), max(0.0, *ys))
    y0, y1 = y_ticks[0], y_ticks[-1]

    def project(at: int, value: float) -> Point:
        x = PAD_LEFT + (at - x0) / ((x1 - x0) or 1) * (WIDTH - PAD_LEFT - PAD_RIGHT)
        y = PAD_TOP + (y1 - value) / ((y1 - y0) or 1) * (HEIGHT - PAD_TOP - PAD_BOTTOM)
        return x, y

    body = [_y_axis(y_ticks, lambda v: project(x0, v)[1]), _x_axis(x0, x1, project)]
    for index, (name, color, points) in enumerate(series):
        coords = [project(at, float(value)) for at, value in points]
        if not coords:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        if fill:
            base = project(x0, 0.0)[1]
            area = f"{coords[0][0]:.1f},{base:.1f} {path} {coords[-1][0]:.1f},{base:.1f}"
            body.append(f'<polygon points="{area}" fill="{color}" fill-opacity="0.18"/>')
        body.append(
            f'<polyline class="series" data-series="{escape(name)}" points="{path}" '
            f'fill="none" stroke="{color}" stroke-width="1.6"/>'
        )
        legend_x = PAD_LEFT + 10 + index * 150
        body.append(
            f'<rect x="{legend_x}" y="{PAD_TOP + 2}" width="12" height="3" fill="{color}"/>'
            f'<text x="{legend_x + 16}" y="{PAD_TOP + 7}">{escape(name)}</text>'
        )
    return _svg(label, body)


def histogram(values: Sequence[float], *, label: str, bins: int = BINS) -> str:
    """Counts of `values` in equal-width bins, with the zero line marked."""
    if not values:
        return _empty(label)
    low, high = min(values), max(values)
    if math.isclose(low, high):
        low, high = low - 1, high + 1
    width = (high - low) / bins
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / width))] += 1
    y_ticks = _nice_ticks(0.0, float(max(counts)))
    top = y_ticks[-1]
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    body = [_y_axis(y_ticks, lambda v: PAD_TOP + (top - v) / top * plot_h)]
    for index, count in enumerate(counts):
        if not count:
            continue
        x = PAD_LEFT + index * plot_w / bins
        h = count / top * plot_h
        body.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{PAD_TOP + plot_h - h:.1f}" '
            f'width="{max(1.0, plot_w / bins - 2):.1f}" height="{h:.1f}" fill="{FOLLOWER_COLOR}">'
            f"<title>{low + index * width:.1f} to {low + (index + 1) * width:.1f} bps: "
            f"{count}</title></rect>"
        )
    for tick in _nice_ticks(low, high, count=6):
        if low <= tick <= high:
            x = PAD_LEFT + (tick - low) / (high - low) * plot_w
            body.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="middle">{_num(tick)}</text>'
            )
    if low < 0 < high:
        x = PAD_LEFT + (0 - low) / (high - low) * plot_w
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD_TOP}" y2="{PAD_TOP + plot_h}" '
            'stroke="#1f2328" stroke-dasharray="3,3"/>'
        )
    body.append(f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 1}" text-anchor="end">bps</text>')
    return _svg(label, body)


def _svg(label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _empty(label: str) -> str:
    return _svg(
        label,
        [f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data</text>'],
    )


def _y_axis(ticks: Sequence[float], y_of: Any) -> str:
    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#d1d9e0"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_num(tick)}</text>'
        )
    return "".join(parts)


def _x_axis(x0: int, x1: int, project: Any) -> str:
    parts = []
    steps = 4
    shape = "%Y-%m-%d" if x1 - x0 > 4 * 86_400_000 else "%m-%d %H:%M"
    for step in range(steps + 1):
        at = x0 + (x1 - x0) * step // steps
        x, _ = project(at, 0.0)
        text = datetime.fromtimestamp(at / 1000, UTC).strftime(shape)
        anchor = "start" if step == 0 else "end" if step == steps else "middle"
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}">{text}</text>')
    return "".join(parts)


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if math.isclose(low, high):
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = [start]
    while ticks[-1] < high - 1e-9 * step:
        ticks.append(ticks[-1] + step)
    return ticks


def _num(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if abs(value) >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _drawdown(points: Sequence[tuple[int, Decimal]]) -> list[tuple[int, Decimal]]:
    peak: Decimal | None = None
    out = []
    for at, value in points:
        peak = value if peak is None or value > peak else peak
        out.append((at, value - peak))
    return out


# --- tables -------------------------------------------------------------------------------


def _figure(name: str, svg: str, caption: str) -> str:
    return f'<figure id="{name}">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def _cell(value: Any, *, signed: bool = False) -> str:
    text = "-" if value is None else str(value)
    if signed and value is not None:
        css = "neg" if text.startswith("-") else "pos"
        return f'<td class="{css}">{escape(text)}</td>'
    return f"<td>{escape(text)}</td>"


def _table(title: str, head: Sequence[str], rows: Sequence[str]) -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<h2>{escape(title)}</h2><table><tr>{header}</tr>{''.join(rows)}</table>"


def _summary_table(data: dict[str, Any]) -> str:
    follower, own = data["follower"], data["leaders_combined"]
    rows = []
    for label, key in (
        ("PnL", "pnl"),
        ("ROI (PnL / bought)", "roi"),
        ("volume", "volume"),
        ("bought", "bought"),
        ("fees", "fees"),
        ("max drawdown", "max_drawdown"),
        ("win rate", "win_rate"),
        ("median holding (hours)", "holding_hours_median"),
        ("mean holding (hours)", "holding_hours_mean"),
    ):
        signed = key in ("pnl", "roi")
        rows.append(
            f"<tr><td>{escape(label)}</td>{_cell(own.get(key), signed=signed)}"
            f"{_cell(follower.get(key), signed=signed)}</tr>"
        )
    rows.append(
        f"<tr><td>copies / unfilled / skips</td><td></td><td>{follower['copies']} / "
        f"{follower['unfilled']} / {follower['skips']}</td></tr>"
    )
    return _table("Summary", ("", "leader (own fills)", "follower (copies)"), rows)


def _penalty_table(data: dict[str, Any]) -> str:
    penalty, copyability = data["penalty"], data["copyability"]
    per_copy = penalty["per_copy_bps"]
    rows = [
        f"<tr><td>{escape(label)}</td>{_cell(value)}</tr>"
        for label, value in (
            ("copy scale", penalty["scale"]),
            ("expected PnL (scale x leader PnL)", penalty["expected_pnl"]),
            ("penalty total", penalty["total"]),
            ("price (paid beyond the leader's price)", penalty["price"]),
            ("fees", penalty["fees"]),
            ("missed (skips, unfilled, sizes, caps, exits)", penalty["missed"]),
            ("per copy, mean bps", per_copy["mean"]),
            (
                "per copy, p10 / p50 / p90 / p99 bps",
                " / ".join(str(per_copy[k] or "-") for k in ("p10", "p50", "p90", "p99")),
            ),
            ("copyability score (0-100)", copyability["score"]),
            (
                "retained / coverage / confidence",
                " / ".join(str(copyability[k]) for k in ("retained", "coverage", "confidence")),
            ),
        )
    ]
    return _table("Penalty and copyability", ("", ""), rows)


def _leaders_table(data: dict[str, Any]) -> str:
    rows = []
    for wallet, row in data["leaders"].items():
        rows.append(
            f"<tr><td>{escape(row['name'] or wallet)}</td><td>{row['fills']}</td>"
            f"{_cell(row['pnl'], signed=True)}{_cell(row['roi'], signed=True)}"
            f"{_cell(row['follower']['pnl'], signed=True)}{_cell(row['penalty'])}"
            f"{_cell(row['copyability']['score'])}"
            f"{_cell(row['uncovered_sells']['fills'])}</tr>"
        )
    head = (
        "leader",
        "fills",
        "own PnL",
        "own ROI",
        "follower PnL",
        "penalty",
        "copyability",
        "uncovered sales",
    )
    return _table("Per leader", head, rows)


def _markets_table(data: dict[str, Any]) -> str:
    rows = [
        f"<tr><td>{escape(row['title'])}</td>{_cell(row['leader_pnl'], signed=True)}"
        f"{_cell(row['follower_pnl'], signed=True)}{_cell(row['leader_volume'])}"
        f"{_cell(row['copies'])}{_cell(row['skips'])}{_cell(row['penalty'])}"
        f"{_cell('yes' if row['resolved'] else 'no')}</tr>"
        for row in data["markets"]
    ]
    head = (
        "market",
        "leader PnL",
        "follower PnL",
        "leader volume",
        "copies",
        "skips",
        "penalty",
        "resolved",
    )
    return _table("Per market", head, rows)


def _reasons_table(data: dict[str, Any]) -> str:
    reasons = data["follower"]["skip_reasons"]
    rows = [f"<tr><td>{escape(k)}</td><td>{v}</td></tr>" for k, v in reasons.items()]
    return _table(
        "Why fills were not copied",
        ("reason", "fills"),
        rows or ["<tr><td>none</td><td></td></tr>"],
    )


def _problems(data: dict[str, Any]) -> str:
    lines = [*data["problems"], *data["errors"]]
    if not lines:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f"<h2>Input problems and engine errors</h2><ul>{items}</ul>"


def _definitions() -> str:
    return (
        "<h2>What the numbers mean</h2><dl>"
        "<dt>PnL</dt><dd>Every position held to resolution: sales and redemptions less "
        "purchases and fees. Unresolved markets are valued at their last traded price. "
        "A leader's sale of shares bought before its recorded history counts only against "
        "shares bought within it (listed as uncovered sales).</dd>"
        "<dt>ROI</dt><dd>PnL / notional of all buys (capital deployed).</dd>"
        "<dt>Penalty</dt><dd>scale x leader PnL - follower PnL: price paid beyond the "
        "leader's fills, fees, and PnL missed through skips, unfilled orders, venue sizes, "
        "caps and differing exits.</dd>"
        "<dt>Copyability</dt><dd>100 x retained x coverage x confidence (see "
        "docs/BACKTEST.md).</dd></dl>"
    )

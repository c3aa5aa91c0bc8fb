"""What a backtest found: leader and follower PnL, the penalty of copying, copyability.

Definitions (docs/BACKTEST.md explains them with examples):

- **PnL** holds every position to resolution: sales and redemptions less purchases and
  fees; an end holding is paid at its market's resolution payout (a market without a
  resolution in the metadata is valued at its last traded price and counted as
  unresolved). A leader's sale of shares bought before its recorded history counts only
  against shares bought within it (`backtest.accounting`).
- **ROI** = PnL / capital deployed, where capital deployed is the notional of all buys.
- **Volume** = notional of buys + notional of sales.
- **Max drawdown** = the largest fall of the PnL curve from a running peak, in pUSD.
- **Win rate** = positions (wallet x outcome) with a positive PnL / positions opened.
- **Holding time** of a position: first buy to the sale that emptied it, else to its
  market's resolution in the replay.
- **Penalty** = what copying cost against the leaders' own fills at the copy scale:
  `scale x leader PnL - follower PnL`, where the scale is the sizing ratio (ratio
  sizing) or else the follower's bought notional over the leader's. Split into *price*
  (per copy: paid above the leader's price for buys, received below it for sales, times
  the shares copied), *fees*, and *missed* (the rest: skipped and unfilled fills, sizes
  rounded to the venue's step, capped copies, exits that differ from the leader's).
  The per-copy penalty in bps of the copy's notional at the leader's price is reported
  as a distribution.
- **Copyability** (0-100) = 100 x retained x coverage x confidence: *retained* = follower
  PnL / (scale x leader PnL), clamped to [0, 1] (0 when the leader did not make money);
  *coverage* = the share of the leader's buys that were copied; *confidence* = n / (n +
  50) for n leader fills, so a handful of lucky trades cannot score high.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Final

from polytail.backtest.accounting import Position, Totals, totals
from polytail.backtest.curve import downsample
from polytail.backtest.runner import Copy, Record
from polytail.config.schema import SizingMode
from polytail.domain.fills import Side
from polytail.domain.ids import Address, ConditionId

ZERO: Final = Decimal(0)
CONFIDENCE_FILLS: Final = 50
CURVE_POINTS: Final = 400
_MICRO: Final = Decimal("0.000001")


def money(value: Decimal) -> str:
    """An amount as exact decimal text to the base unit (6 decimals)."""
    return _text(value.quantize(_MICRO, ROUND_HALF_EVEN))


def ratio(value: Decimal | None, places: int = 6) -> str | None:
    if value is None:
        return None
    return _text(value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN))


def _text(value: Decimal) -> str:
    """Fixed-point text; a value that rounds to zero prints as zero, never "-0"."""
    return f"{value.copy_abs() if value.is_zero() else value:f}"


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Figures:
    """PnL figures of one side (a leader's own fills, or the follower's copies)."""

    totals: Totals
    max_drawdown: Decimal

    def as_json(self) -> dict[str, Any]:
        t = self.totals
        hours = [Decimal(ms) / 3_600_000 for ms in t.holding_ms]
        return {
            "pnl": money(t.pnl),
            "roi": ratio(t.roi),
            "volume": money(t.volume),
            "bought": money(t.bought),
            "sold": money(t.sold),
            "fees": money(t.fees),
            "max_drawdown": money(self.max_drawdown),
            "positions": t.positions,
            "win_rate": ratio(t.win_rate, 4),
            "holding_hours_median": ratio(_median(hours), 2),
            "holding_hours_mean": ratio(_mean(hours), 2),
            "unresolved_positions": t.unresolved,
        }


@dataclass(frozen=True, slots=True)
class Penalty:
    scale: Decimal
    expected: Decimal  # scale x leader PnL
    follower: Decimal
    price: Decimal
    fees: Decimal
    per_copy_bps: tuple[Decimal, ...]  # one per copy, sorted

    @property
    def total(self) -> Decimal:
        return self.expected - self.follower

    @property
    def missed(self) -> Decimal:
        return self.total - self.price - self.fees

    def as_json(self) -> dict[str, Any]:
        bps = self.per_copy_bps
        return {
            "total": money(self.total),
            "price": money(self.price),
            "fees": money(self.fees),
            "missed": money(self.missed),
            "scale": ratio(self.scale),
            "expected_pnl": money(self.expected),
            "per_copy_bps": {
                "count": len(bps),
                "mean": ratio(_mean(bps), 2),
                "p10": ratio(_quantile(bps, Decimal("0.1")), 2),
                "p50": ratio(_quantile(bps, Decimal("0.5")), 2),
                "p90": ratio(_quantile(bps, Decimal("0.9")), 2),
                "p99": ratio(_quantile(bps, Decimal("0.99")), 2),
                "positive_share": ratio(
                    Decimal(sum(1 for b in bps if b > 0)) / len(bps) if bps else None, 4
                ),
            },
        }


@dataclass(frozen=True, slots=True)
class Copyability:
    retained: Decimal
    coverage: Decimal
    confidence: Decimal

    @property
    def score(self) -> Decimal:
        return 100 * self.retained * self.coverage * self.confidence

    def as_json(self) -> dict[str, Any]:
        return {
            "score": ratio(self.score, 1),
            "retained": ratio(self.retained, 4),
            "coverage": ratio(self.coverage, 4),
            "confidence": ratio(self.confidence, 4),
        }


@dataclass(frozen=True, slots=True)
class Counts:
    fills: int
    buys: int
    copies: int
    unfilled: int
    skips: int
    outcomes: Counter[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "copies": self.copies,
            "unfilled": self.unfilled,
            "skips": self.skips,
            "skip_reasons": dict(sorted(self.outcomes.items(), key=lambda kv: (-kv[1], kv[0]))),
        }


@dataclass(frozen=True, slots=True)
class LeaderResult:
    leader: Address
    name: str
    own: Figures
    follower: Figures
    penalty: Penalty
    copyability: Copyability
    counts: Counts

    def as_json(self) -> dict[str, Any]:
        t = self.own.totals
        return {
            "name": self.name,
            "fills": self.counts.fills,
            **self.own.as_json(),
            "uncovered_sells": {
                "fills": t.uncovered_fills,
                "shares": money(t.uncovered_shares),
                "proceeds": money(t.uncovered_notional),
                "pnl_effect": money(t.uncovered_effect),
            },
            "follower": {**self.follower.as_json(), **self.counts.as_json()},
            "penalty": money(self.penalty.total),
            "copyability": self.copyability.as_json(),
        }


@dataclass(frozen=True, slots=True)
class MarketRow:
    condition: ConditionId | None
    title: str
    resolved: bool
    leader: Totals
    follower: Totals
    copies: int
    skips: int
    penalty: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "condition_id": self.condition,
            "title": self.title,
            "resolved": self.resolved,
            "leader_pnl": money(self.leader.pnl),
            "follower_pnl": money(self.follower.pnl),
            "leader_volume": money(self.leader.volume),
            "follower_volume": money(self.follower.volume),
            "copies": self.copies,
            "skips": self.skips,
            "penalty": money(self.penalty),
        }


@dataclass(frozen=True)
class Report:
    record: Record = field(repr=False)
    leaders: dict[Address, LeaderResult]
    combined: Figures  # every leader's own fills together
    follower: Figures
    counts: Counts
    penalty: Penalty
    copyability: Copyability
    markets: list[MarketRow]

    @property
    def settings(self) -> dict[str, Any]:
        return self.record.settings.describe()

    def as_json(self) -> dict[str, Any]:
        record = self.record
        fills = record.fills
        start = min((c.delivered_ms for c in record.copies.values()), default=0)
        return {
            "settings": self.settings,
            "price_model": record.settings.price_model.describe(),
            "period": {
                "start": iso(fills[0].timestamp * 1000) if fills else None,
                "end": iso(record.end_ms) if fills else None,
                "first_delivery": iso(start) if fills else None,
            },
            "inputs": {
                "fills": len(fills),
                "markets": len({c.fill.condition_id for c in record.copies.values()}),
                "leaders": len(record.leaders),
                "books_served": dict(sorted(record.books_served.items())),
            },
            "leaders": {str(k): v.as_json() for k, v in sorted(self.leaders.items())},
            "leaders_combined": self.combined.as_json(),
            "follower": {
                **self.follower.as_json(),
                **self.counts.as_json(),
                "ledger_pnl": money(record.ledger_pnl),
                "exit_rule_decisions": dict(sorted(record.other_decisions.items())),
            },
            "penalty": self.penalty.as_json(),
            "copyability": self.copyability.as_json(),
            "markets": [row.as_json() for row in self.markets],
            "curve": {
                "follower": _points(record.follower_curves.combined.points),
                "leader_scaled": _points(
                    _scaled(record.leader_curves.combined.points, self.penalty.scale)
                ),
            },
            "problems": record.problems,
            "errors": record.errors,
        }


def _points(points: Sequence[tuple[int, Decimal]]) -> list[list[Any]]:
    return [[at, money(value)] for at, value in downsample(points, CURVE_POINTS)]


def _scaled(points: Sequence[tuple[int, Decimal]], scale: Decimal) -> list[tuple[int, Decimal]]:
    return [(at, value * scale) for at, value in points]


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, ZERO) / len(values) if values else None


def _median(values: Sequence[Decimal]) -> Decimal | None:
    return _quantile(sorted(values), Decimal("0.5"))


def _quantile(ordered: Sequence[Decimal], q: Decimal) -> Decimal | None:
    """Nearest-rank quantile of sorted values."""
    if not ordered:
        return None
    rank = int((q * len(ordered)).to_integral_value(rounding="ROUND_CEILING"))
    return ordered[min(len(ordered), max(1, rank)) - 1]


# --- building ---------------------------------------------------------------------------


def build(record: Record) -> Report:
    """Settle both books at the markets' resolutions and compute every figure."""
    settle_ms = _settlement(record)
    for book in (record.leader_book, record.follower):
        book.settle(record.payouts.get, record.final_mark, settle_ms)
    scales = _scales(record)
    leaders = {leader: _leader(record, leader, scales[leader]) for leader in record.leaders}
    copies = list(record.copies.values())
    follower = Figures(
        totals(record.follower.select()), record.follower_curves.combined.max_drawdown
    )
    combined = Figures(
        totals(record.leader_book.select()), record.leader_curves.combined.max_drawdown
    )
    own = combined.totals
    expected = sum((scales[w] * r.own.totals.pnl for w, r in leaders.items()), ZERO)
    scale = expected / own.pnl if own.pnl else _overall_scale(scales)
    penalty = _penalty(copies, scale, expected, follower.totals)
    return Report(
        record=record,
        leaders=leaders,
        combined=combined,
        follower=follower,
        counts=_counts(copies),
        penalty=penalty,
        copyability=_copyability(copies, expected, follower.totals.pnl),
        markets=_markets(record, scales),
    )


def _settlement(record: Record) -> Any:
    def settled(position: Position) -> int:
        if position.condition is not None:
            at = record.resolved_ms.get(position.condition)
            if at is not None:
                return at
        return record.end_ms

    return settled


def _scales(record: Record) -> dict[Address, Decimal]:
    """The copy scale per leader: its sizing ratio, else bought notional over its own."""
    scales: dict[Address, Decimal] = {}
    for leader in record.leaders:
        settings = record.config.leader(leader)
        if settings is not None and settings.sizing.mode is SizingMode.RATIO:
            scales[leader] = settings.sizing.ratio
            continue
        own = totals(record.leader_book.select(leader)).bought
        ours = totals(record.follower.select(leader)).bought
        scales[leader] = ours / own if own else ZERO
    return scales


def _overall_scale(scales: Mapping[Address, Decimal]) -> Decimal:
    values = list(scales.values())
    return values[0] if len(set(values)) == 1 else ZERO


def _counts(copies: Iterable[Copy]) -> Counts:
    outcomes: Counter[str] = Counter()
    fills = buys = copied = unfilled = skips = 0
    for copy in copies:
        fills += 1
        buys += copy.fill.side is Side.BUY
        outcome = copy.outcome
        if outcome == "copied":
            copied += 1
            continue
        outcomes[outcome] += 1
        if outcome.startswith("unfilled"):
            unfilled += 1
        else:
            skips += 1
    return Counts(fills, buys, copied, unfilled, skips, outcomes)


def _price_penalty(copy: Copy) -> Decimal:
    at_leader = copy.shares * copy.fill.price
    return copy.notional - at_leader if copy.fill.side is Side.BUY else at_leader - copy.notional


def _penalty(
    copies: Sequence[Copy], scale: Decimal, expected: Decimal, follower: Totals
) -> Penalty:
    price = ZERO
    per_copy: list[Decimal] = []
    for copy in copies:
        if not copy.copied:
            continue
        cost = _price_penalty(copy)
        price += cost
        base = copy.shares * copy.fill.price
        if base > 0:
            per_copy.append((cost + copy.fee) / base * 10_000)
    return Penalty(scale, expected, follower.pnl, price, follower.fees, tuple(sorted(per_copy)))


def _copyability(copies: Sequence[Copy], expected: Decimal, follower_pnl: Decimal) -> Copyability:
    buys = [c for c in copies if c.fill.side is Side.BUY]
    retained = min(Decimal(1), max(ZERO, follower_pnl / expected)) if expected > 0 else ZERO
    coverage = Decimal(sum(1 for c in buys if c.copied)) / len(buys) if buys else ZERO
    n = len(copies)
    return Copyability(retained, coverage, Decimal(n) / (n + CONFIDENCE_FILLS))


def _leader(record: Record, leader: Address, scale: Decimal) -> LeaderResult:
    copies = [c for c in record.copies.values() if c.fill.wallet == leader]
    own = Figures(
        totals(record.leader_book.select(leader)), record.leader_curves.of(leader).max_drawdown
    )
    follower = Figures(
        totals(record.follower.select(leader)), record.follower_curves.of(leader).max_drawdown
    )
    expected = scale * own.totals.pnl
    settings = record.config.leader(leader)
    return LeaderResult(
        leader=leader,
        name=settings.name if settings is not None else "",
        own=own,
        follower=follower,
        penalty=_penalty(copies, scale, expected, follower.totals),
        copyability=_copyability(copies, expected, follower.totals.pnl),
        counts=_counts(copies),
    )


def _markets(record: Record, scales: Mapping[Address, Decimal]) -> list[MarketRow]:
    leader_groups: dict[ConditionId | None, list[Position]] = {}
    for position in record.leader_book.select():
        leader_groups.setdefault(position.condition, []).append(position)
    follower_groups: dict[ConditionId | None, list[Position]] = {}
    for position in record.follower.select():
        follower_groups.setdefault(position.condition, []).append(position)
    fills: dict[ConditionId | None, list[Copy]] = {}
    for copy in record.copies.values():
        fills.setdefault(copy.fill.condition_id, []).append(copy)
    rows = []
    for condition in set(leader_groups) | set(follower_groups):
        mine = leader_groups.get(condition, [])
        theirs = follower_groups.get(condition, [])
        market = record.catalog.get(condition) if condition else None
        own, ours = totals(mine), totals(theirs)
        expected = sum((scales.get(p.wallet, ZERO) * p.pnl for p in mine), ZERO)
        copies = fills.get(condition, [])
        rows.append(
            MarketRow(
                condition=condition,
                title=(market.question or market.slug) if market else "(unknown market)",
                resolved=market is not None and market.resolution is not None,
                leader=own,
                follower=ours,
                copies=sum(1 for c in copies if c.copied),
                skips=sum(1 for c in copies if not c.copied),
                penalty=expected - ours.pnl,
            )
        )
    rows.sort(key=lambda row: (-abs(row.leader.pnl), row.condition or ""))
    return rows

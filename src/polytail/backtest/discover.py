"""Leader discovery: leaderboard candidates, scored by backtesting their own histories.

A leaderboard ranks wallets by what *they* made; discovery asks what a copier would
have made. For every candidate (from the Data API leaderboard, one list per category
and period, or from a leaderboard file) it fetches the history and its markets through
the cache (`backtest.history`), backtests it twice with the engine - with the given
settings, and the same with zero latency, to see what latency alone costs - and scores:

    score = copyability x (0.5 + 0.5 x consistency) x recency          (0-100)

- *copyability* is the backtest's (retained x coverage x confidence, `backtest.report`),
  which already counts the sample size (confidence = n / (n + 50) fills);
- *consistency* = the share of the leader's markets where its own PnL was positive;
- *recency* = 0.5 ** (days since its last fill / 30), days counted back from the newest
  fill among all candidates (the data's own clock, so a re-run scores the same).

Flags mark wallets a copier should not follow whatever the score says:

- `bot_like`: moments of activity (distinct fill times) a median of under 5 s apart, or
  over 200 fills on an average active day;
- `sub_minimum`: most buys below the venue minimum (5 shares or 1 pUSD);
- `two_sided`: in over 30 % of its markets it bought both outcomes, or bought and sold
  the same outcome within 10 minutes (market making, scalping);
- `last_seconds`: most fills in the last 60 s before the market's end (short markets);
- `latency_sensitive`: with the given latency it keeps under half of what it keeps with
  none;
- `uncopyable`: copyability under 10; `few_fills`: fewer than `min_fills` fills.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

from polytail.backtest.history import Cache, conditions_in, fetch_activity, fetch_markets
from polytail.backtest.runner import Inputs, condition_of
from polytail.backtest.settings import BacktestSettings
from polytail.backtest.sweep import InputFiles, Run, run_many
from polytail.backtest.tape import fill_ms
from polytail.config.schema import PolytailConfig
from polytail.domain.fills import Side
from polytail.domain.ids import Address
from polytail.domain.venue_rules import MIN_MARKETABLE_NOTIONAL
from polytail.venue.clients import VenueClients
from polytail.venue.errors import MalformedRow, VenueError
from polytail.venue.normalize.leaderboard import LeaderboardEntry, leaderboard_row

BOT_GAP_S: Final = 5
BOT_FILLS_PER_DAY: Final = 200
TWO_SIDED_SHARE: Final = Decimal("0.3")
TWO_SIDED_WINDOW_MS: Final = 600_000
LAST_SECONDS_MS: Final = 60_000
UNCOPYABLE_SCORE: Final = Decimal(10)
HALF_LIFE_DAYS: Final = 30
DAY_MS: Final = 86_400_000


@dataclass
class Candidate:
    wallet: Address
    name: str = ""
    seen_in: list[str] = field(default_factory=list)  # "<category>/<period> #<rank>"
    leaderboard_pnl: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Traits:
    """What a wallet's fills look like, for the flags."""

    fills: int
    transactions: int
    median_gap_s: Decimal | None
    fills_per_active_day: Decimal
    sub_minimum_share: Decimal
    two_sided_share: Decimal
    last_seconds_share: Decimal
    last_fill_ms: int


@dataclass
class Scored:
    candidate: Candidate
    traits: Traits | None = None
    run: Run | None = None
    instant: Run | None = None  # the same backtest with zero latency
    problems: list[str] = field(default_factory=list)
    recency: Decimal = Decimal(0)
    flags: list[str] = field(default_factory=list)
    now_ms: int = 0  # the newest fill among all candidates: recency counts back from it

    @property
    def copyability(self) -> Decimal:
        return _figure(self.run, "copyability")

    @property
    def consistency(self) -> Decimal:
        if self.run is None or not self.run.figures.get("leader_markets"):
            return Decimal(0)
        won, markets = self.run.figures["leader_markets_won"], self.run.figures["leader_markets"]
        return Decimal(won) / Decimal(markets)

    @property
    def score(self) -> Decimal:
        return self.copyability * (Decimal("0.5") + self.consistency / 2) * self.recency

    def as_json(self) -> dict[str, Any]:
        figures = self.run.figures if self.run else {}
        traits = self.traits
        return {
            "wallet": self.candidate.wallet,
            "name": self.candidate.name,
            "seen_in": self.candidate.seen_in,
            "score": _text(self.score, 1),
            "copyability": _text(self.copyability, 1),
            "consistency": _text(self.consistency, 4),
            "recency": _text(self.recency, 4),
            "fills": traits.fills if traits else 0,
            "days_since_last_fill": _text(self._days_since(), 1),
            "leader_pnl": figures.get("leader_pnl"),
            "follower_pnl": figures.get("pnl"),
            "penalty": figures.get("penalty"),
            "retained": figures.get("retained"),
            "retained_without_latency": (
                self.instant.figures.get("retained") if self.instant else None
            ),
            "flags": self.flags,
            "problems": self.problems,
            "traits": None
            if traits is None
            else {
                "transactions": traits.transactions,
                "median_gap_s": None
                if traits.median_gap_s is None
                else _text(traits.median_gap_s, 1),
                "fills_per_active_day": _text(traits.fills_per_active_day, 1),
                "sub_minimum_share": _text(traits.sub_minimum_share, 4),
                "two_sided_share": _text(traits.two_sided_share, 4),
                "last_seconds_share": _text(traits.last_seconds_share, 4),
            },
        }

    def _days_since(self) -> Decimal | None:
        if self.traits is None:
            return None
        return Decimal(self.now_ms - self.traits.last_fill_ms) / DAY_MS


def _figure(run: Run | None, key: str) -> Decimal:
    if run is None or run.error or run.figures.get(key) is None:
        return Decimal(0)
    return Decimal(run.figures[key])


def _text(value: Decimal | None, places: int) -> str | None:
    if value is None:
        return None
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}"


# --- candidates -------------------------------------------------------------------------------


def merge_entries(
    found: dict[Address, Candidate], entries: Iterable[LeaderboardEntry], source: str
) -> None:
    for position, entry in enumerate(entries, start=1):
        candidate = found.setdefault(entry.wallet, Candidate(entry.wallet))
        candidate.name = candidate.name or entry.name
        candidate.seen_in.append(f"{source} #{entry.rank or position}")
        pnl = entry.pnl if entry.pnl is not None else entry.amount
        if pnl is not None and (
            candidate.leaderboard_pnl is None or pnl > candidate.leaderboard_pnl
        ):
            candidate.leaderboard_pnl = pnl


async def from_leaderboard(
    venue: VenueClients,
    categories: Sequence[str],
    periods: Sequence[str],
    *,
    limit: int,
    order_by: str = "PNL",
    problems: list[str],
) -> list[Candidate]:
    found: dict[Address, Candidate] = {}
    for category in categories:
        for period in periods:
            try:
                entries, rejects = await venue.data_v1.leaderboard(
                    category=category.upper(),
                    time_period=period.upper(),
                    order_by=order_by,
                    limit=limit,
                )
            except VenueError as error:
                problems.append(f"leaderboard {category}/{period}: {error}")
                continue
            problems.extend(f"leaderboard {category}/{period}: {reject}" for reject in rejects)
            merge_entries(found, entries, f"{category.lower()}/{period.lower()}")
    return list(found.values())


def from_file(path: Path, problems: list[str]) -> list[Candidate]:
    """Leaderboard rows recorded in a file (v1, v2 or the web app's lb-api shape)."""
    import orjson  # noqa: PLC0415

    try:
        rows = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        problems.append(f"{path}: cannot read the leaderboard ({error})")
        return []
    if isinstance(rows, dict) and isinstance(rows.get("data"), list):
        rows = rows["data"]
    entries = []
    for row in rows if isinstance(rows, list) else []:
        try:
            entries.append(leaderboard_row(row))
        except MalformedRow as error:
            problems.append(f"{path}: {error}")
    found: dict[Address, Candidate] = {}
    merge_entries(found, entries, path.name)
    return list(found.values())


# --- traits and flags -------------------------------------------------------------------------


def traits_of(inputs: Inputs, wallet: Address) -> Traits | None:
    fills = [fill for fill in inputs.fills if fill.wallet == wallet]
    if not fills:
        return None
    catalog = inputs.catalog
    transactions = {fill.tx_hash or fill.fill_id for fill in fills}
    times = sorted({fill_ms(fill) for fill in fills})  # moments with activity
    gaps = [Decimal(b - a) / 1000 for a, b in pairwise(times)]
    days = {at // DAY_MS for at in times}
    buys = [fill for fill in fills if fill.side is Side.BUY]
    small = 0
    for fill in buys:
        market = catalog.for_token(fill.token_id)
        minimum = market.min_size if market is not None else None
        if fill.usdc < MIN_MARKETABLE_NOTIONAL or (minimum is not None and fill.size < minimum):
            small += 1
    by_market: dict[Any, list[Any]] = defaultdict(list)
    for fill in fills:
        by_market[condition_of(fill, catalog) or fill.token_id].append(fill)
    two_sided = sum(1 for group in by_market.values() if _two_sided(group))
    late = 0
    for fill in fills:
        market = catalog.for_token(fill.token_id)
        end = None if market is None or market.end_date is None else market.end_date * 1000
        if end is not None and 0 <= end - fill_ms(fill) <= LAST_SECONDS_MS:
            late += 1
    return Traits(
        fills=len(fills),
        transactions=len(transactions),
        median_gap_s=statistics.median(gaps) if gaps else None,
        fills_per_active_day=Decimal(len(fills)) / len(days),
        sub_minimum_share=Decimal(small) / len(buys) if buys else Decimal(0),
        two_sided_share=Decimal(two_sided) / len(by_market),
        last_seconds_share=Decimal(late) / len(fills),
        last_fill_ms=max(times),
    )


def _two_sided(fills: Sequence[Any]) -> bool:
    bought = {fill.token_id for fill in fills if fill.side is Side.BUY}
    if len(bought) > 1:
        return True
    last_buy: dict[Any, int] = {}
    for fill in sorted(fills, key=fill_ms):
        at = fill_ms(fill)
        if fill.side is Side.BUY:
            last_buy[fill.token_id] = at
        elif fill.token_id in last_buy and at - last_buy[fill.token_id] <= TWO_SIDED_WINDOW_MS:
            return True
    return False


def flags_of(scored: Scored, min_fills: int) -> list[str]:
    flags = []
    traits = scored.traits
    if traits is not None:
        gap = traits.median_gap_s
        if (gap is not None and gap < BOT_GAP_S) or traits.fills_per_active_day > BOT_FILLS_PER_DAY:
            flags.append("bot_like")
        if traits.sub_minimum_share > Decimal("0.5"):
            flags.append("sub_minimum")
        if traits.two_sided_share > TWO_SIDED_SHARE:
            flags.append("two_sided")
        if traits.last_seconds_share > Decimal("0.5"):
            flags.append("last_seconds")
        if traits.fills < min_fills:
            flags.append("few_fills")
    with_latency = _figure(scored.run, "retained")
    without = _figure(scored.instant, "retained")
    if without > 0 and with_latency < without / 2:
        flags.append("latency_sensitive")
    if scored.copyability < UNCOPYABLE_SCORE:
        flags.append("uncopyable")
    return flags


# --- the whole discovery ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiscoverSettings:
    categories: tuple[str, ...] = ("OVERALL",)
    periods: tuple[str, ...] = ("MONTH",)
    limit: int = 20
    order_by: str = "PNL"
    min_fills: int = 30
    backtest: BacktestSettings = field(default_factory=BacktestSettings)


@dataclass
class Discovery:
    scored: list[Scored]
    problems: list[str]
    settings: DiscoverSettings

    def ranked(self) -> list[Scored]:
        return sorted(self.scored, key=lambda s: (-s.score, s.candidate.wallet))

    def as_json(self) -> dict[str, Any]:
        return {
            "settings": {
                "categories": list(self.settings.categories),
                "periods": list(self.settings.periods),
                "limit": self.settings.limit,
                "min_fills": self.settings.min_fills,
                "backtest": self.settings.backtest.describe(),
            },
            "candidates": [scored.as_json() for scored in self.ranked()],
            "problems": self.problems,
        }

    def snippet(self, top: int = 5) -> str:
        """`[[leaders]]` tables for the best unflagged candidates (a config snippet)."""
        lines = []
        chosen = [s for s in self.ranked() if not s.flags and s.score > 0][:top]
        for scored in chosen:
            data = scored.as_json()
            lines += [
                "[[leaders]]",
                f'address = "{scored.candidate.wallet}"',
                f'name = "{_toml_text(scored.candidate.name or scored.candidate.wallet[:10])}"',
                f"# score {data['score']}, copyability {data['copyability']}, consistency "
                f"{data['consistency']}, {data['fills']} fills, last fill "
                f"{data['days_since_last_fill']} days before the newest",
                "",
            ]
        if not chosen:
            lines.append("# no candidate passed: every one is flagged or scored 0")
        return "\n".join(lines).rstrip() + "\n"


def _toml_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


async def gather(
    venue: VenueClients,
    cache: Cache,
    candidates: Sequence[Candidate],
    *,
    refresh: bool = False,
) -> dict[Address, tuple[InputFiles, list[str]]]:
    """Each candidate's history and markets, through the cache."""
    files: dict[Address, tuple[InputFiles, list[str]]] = {}
    for candidate in candidates:
        fetched = await fetch_activity(venue, cache, [candidate.wallet], refresh=refresh)
        await fetch_markets(
            venue, cache, conditions_in(fetched.activity), refresh=refresh, into=fetched
        )
        files[candidate.wallet] = (
            InputFiles(tuple(fetched.activity), tuple(fetched.markets), (), (candidate.wallet,)),
            fetched.problems,
        )
    return files


def score(
    candidates: Sequence[Candidate],
    files: dict[Address, tuple[InputFiles, list[str]]],
    settings: DiscoverSettings,
    config: PolytailConfig | None = None,
    *,
    workers: int | None = None,
    on_done: Any = None,
) -> Discovery:
    """Backtest every candidate (twice) in the process pool, then score and flag."""
    scored = {c.wallet: Scored(c) for c in candidates}
    tasks: list[tuple[InputFiles, BacktestSettings]] = []
    owners: list[tuple[Address, bool]] = []
    instant = replace(settings.backtest, latency_ms=0, jitter_ms=0)
    for candidate in candidates:
        inputs_files, problems = files.get(candidate.wallet, (None, ["no history"]))
        entry = scored[candidate.wallet]
        entry.problems.extend(problems)
        if inputs_files is None or not inputs_files.fills:
            continue
        inputs = inputs_files.load()
        entry.traits = traits_of(inputs, candidate.wallet)
        if entry.traits is None:
            entry.problems.append("no fills in its history")
            continue
        for setting, is_instant in ((settings.backtest, False), (instant, True)):
            tasks.append((inputs_files, replace(setting, leaders=(candidate.wallet,))))
            owners.append((candidate.wallet, is_instant))
    for (wallet, is_instant), run in zip(
        owners, run_many(tasks, config, workers=workers, on_done=on_done), strict=True
    ):
        entry = scored[wallet]
        if run.error:
            entry.problems.append(f"backtest failed: {run.error}")
        if is_instant:
            entry.instant = run
        else:
            entry.run = run
    newest = max((s.traits.last_fill_ms for s in scored.values() if s.traits), default=0)
    for entry in scored.values():
        entry.now_ms = newest
        if entry.traits is not None:
            days = Decimal(newest - entry.traits.last_fill_ms) / DAY_MS
            entry.recency = Decimal("0.5") ** (days / HALF_LIFE_DAYS)
        entry.flags = flags_of(entry, settings.min_fills)
    problems = [f"{wallet}: {p}" for wallet, s in scored.items() for p in s.problems]
    return Discovery(list(scored.values()), problems, settings)

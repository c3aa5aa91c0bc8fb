"""Reading what a backtest replays: fills through the replay feed, metadata, books.

Fills come from the feeds layer's replay (`feeds.replay.replay_files`): the same
normalisers and merger as the live feeds, so a replayed fill has exactly the id and the
values the engine would have seen live, and a fill recorded twice (two files, a page
repeated past the offset cap) is replayed once. Whatever could not be read is kept as a
problem with its reason; the rest of the backtest goes on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from polytail.backtest.books import RecordedBooks
from polytail.backtest.markets import MarketCatalog
from polytail.backtest.runner import Inputs, condition_of
from polytail.backtest.tape import fill_ms
from polytail.domain.ids import Address
from polytail.feeds.replay import replay_files

MAX_LISTED = 20


def load_inputs(
    fills: Sequence[Path],
    markets: Sequence[Path],
    books: Sequence[Path] = (),
    leaders: Sequence[Address] = (),
) -> Inputs:
    replayed = replay_files(list(fills), list(leaders) or None)
    problems = [f"cannot replay {message}" for _, message in replayed.broken]
    rejects = replayed.rejects
    problems += [f"rejected a row of {path}: {error}" for path, error in rejects[:MAX_LISTED]]
    if len(rejects) > MAX_LISTED:
        problems.append(f"... and {len(rejects) - MAX_LISTED} more rejected rows")
    catalog = MarketCatalog.load(list(markets))
    problems += catalog.problems
    recorded = RecordedBooks.load(list(books)) if books else None
    if recorded is not None:
        problems += recorded.problems
    ordered = sorted(replayed.fills, key=fill_ms)  # stable: the replay's order within a second
    unknown: Counter[str] = Counter()
    for fill in ordered:
        condition = condition_of(fill, catalog)
        if condition is None or catalog.get(condition) is None:
            unknown[fill.condition_id or fill.token_id] += 1
    if unknown:
        problems.append(
            f"{sum(unknown.values())} fills in {len(unknown)} markets have no metadata (they "
            "are skipped as market_unknown and valued at their last price; add the markets "
            f"with --markets): {', '.join(list(unknown)[:5])}"
            + (" ..." if len(unknown) > 5 else "")
        )
    return Inputs(ordered, catalog, recorded, tuple(problems))

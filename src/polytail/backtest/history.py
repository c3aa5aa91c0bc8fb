"""Leader histories and market metadata from the API, cached as the raw responses.

A backtest must be repeatable offline, so whatever is fetched is written first, exactly
as the venue sent it, and the backtest then reads the files like any other recording:
activity rows go through the replay feed, market objects through the catalog loader.
A second run finds the files and makes no request (`refresh=True` fetches again).

    <cache>/activity/<wallet>.json     Data API /activity rows (TRADE), oldest first
    <cache>/markets/<condition>.json   the Gamma market object (or the CLOB /markets one)

Files are written to a temporary name and renamed, so an interrupted fetch never leaves
a truncated file that a later run would trust.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import structlog

from polytail.config.schema import VenueSettings
from polytail.domain.ids import Address, ConditionId, condition_id, token_id
from polytail.venue.clients import VenueClients
from polytail.venue.errors import VenueError
from polytail.venue.gamma import MAX_IDS_PER_REQUEST

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Cache:
    root: Path

    def activity(self, wallet: Address) -> Path:
        return self.root / "activity" / f"{wallet}.json"

    def market(self, condition: ConditionId) -> Path:
        return self.root / "markets" / f"{condition}.json"


@dataclass
class Fetched:
    """What a fetch produced: the files to replay and what went wrong."""

    activity: list[Path] = field(default_factory=list)
    markets: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    requests: int = 0  # 0 when everything came from the cache


def write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(orjson.dumps(document))
    partial.replace(path)


async def fetch_activity(
    venue: VenueClients,
    cache: Cache,
    wallets: Sequence[Address],
    *,
    start: int | None = None,
    refresh: bool = False,
    into: Fetched | None = None,
) -> Fetched:
    """Each wallet's TRADE activity (oldest first) into the cache, unless it is there."""
    fetched = into or Fetched()
    for wallet in wallets:
        path = cache.activity(wallet)
        if path.exists() and not refresh:
            fetched.activity.append(path)
            continue
        rows: list[Any] = []
        pages = venue.data_v1.activity_pages(wallet, start=start)
        try:
            async for page in pages:
                fetched.requests += 1
                rows.extend(page)
        except VenueError as error:
            fetched.problems.append(f"activity of {wallet}: {error} (not cached; try again)")
            continue
        if pages.truncated:
            fetched.problems.append(
                f"activity of {wallet}: the Data API's offset cap stopped the walk after "
                f"{len(rows)} rows; the oldest part of the history is missing"
            )
        write_json(path, rows)
        fetched.activity.append(path)
    return fetched


def conditions_in(paths: Iterable[Path]) -> list[ConditionId]:
    """The condition ids named by cached activity rows (to fetch their markets)."""
    found: set[ConditionId] = set()
    for path in paths:
        try:
            rows = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        for row in rows if isinstance(rows, list) else []:
            value = row.get("conditionId") if isinstance(row, dict) else None
            if isinstance(value, str) and value:
                try:
                    found.add(condition_id(value))
                except ValueError:
                    continue
    return sorted(found)


async def fetch_markets(
    venue: VenueClients,
    cache: Cache,
    conditions: Sequence[ConditionId],
    *,
    refresh: bool = False,
    into: Fetched | None = None,
) -> Fetched:
    """Gamma market objects (else the CLOB's) into the cache, unless they are there.

    Gamma leaves out the tick on some markets; the CLOB's tick is then written into the
    cached object as `orderPriceMinTickSize` (the one change made to a response).
    """
    fetched = into or Fetched()
    missing = [c for c in conditions if refresh or not cache.market(c).exists()]
    fetched.markets.extend(cache.market(c) for c in conditions if c not in missing)
    for start in range(0, len(missing), MAX_IDS_PER_REQUEST):
        chunk = missing[start : start + MAX_IDS_PER_REQUEST]
        try:
            raws = await venue.gamma.raw_markets(condition_ids=chunk, limit=len(chunk))
            fetched.requests += 1
        except VenueError as error:
            fetched.problems.append(f"gamma markets: {error}")
            raws = []
        found: set[ConditionId] = set()
        for raw in raws:
            if not isinstance(raw, dict) or not raw.get("conditionId"):
                continue
            condition = condition_id(str(raw["conditionId"]))
            if condition not in chunk:
                continue
            await _complete_tick(venue, raw, fetched)
            write_json(cache.market(condition), raw)
            fetched.markets.append(cache.market(condition))
            found.add(condition)
        for condition in chunk:
            if condition not in found:
                await _from_clob(venue, cache, condition, fetched)
    return fetched


async def _complete_tick(venue: VenueClients, raw: dict[str, Any], fetched: Fetched) -> None:
    if raw.get("orderPriceMinTickSize") not in (None, ""):
        return
    try:
        ids = orjson.loads(raw.get("clobTokenIds") or "[]")
        tick = await venue.clob.tick_size(token_id(ids[0]))
        fetched.requests += 1
        raw["orderPriceMinTickSize"] = str(tick)
    except (VenueError, ValueError, IndexError, orjson.JSONDecodeError) as error:
        fetched.problems.append(f"tick of market {raw.get('conditionId')}: {error}")


async def _from_clob(
    venue: VenueClients, cache: Cache, condition: ConditionId, fetched: Fetched
) -> None:
    try:
        raw = await venue.clob.http.get_json(f"/markets/{condition}", family="clob")
        fetched.requests += 1
    except VenueError as error:
        fetched.problems.append(f"market {condition}: not found on Gamma or the CLOB ({error})")
        return
    write_json(cache.market(condition), raw)
    fetched.markets.append(cache.market(condition))


async def fetch_histories(
    settings: VenueSettings,
    cache: Cache,
    wallets: Sequence[Address],
    *,
    start: int | None = None,
    refresh: bool = False,
) -> Fetched:
    """Every wallet's activity and the metadata of every market it traded, via the cache."""
    venue = VenueClients.from_settings(settings)
    try:
        fetched = await fetch_activity(venue, cache, wallets, start=start, refresh=refresh)
        await fetch_markets(
            venue, cache, conditions_in(fetched.activity), refresh=refresh, into=fetched
        )
    finally:
        await venue.close()
    return fetched

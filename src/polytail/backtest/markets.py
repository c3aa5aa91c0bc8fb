"""Market metadata for a replay, and the market as the engine saw it at the simulated time.

`MarketCatalog.load` reads the files given with `--markets` (or cached from the API):
Gamma market objects, Gamma events with nested markets, CLOB `/markets` objects (also
the `{data: [...]}` listing), one per line or as arrays, and data-vendor lines that wrap
a Gamma object in `raw`. Every object goes through the venue layer's normalisers, so a
backtest sees exactly the `Market` the live engine would build. A file or object that
cannot be read is reported with its reason; the rest of the catalog is still used.

The recorded metadata describes each market as it ended: closed, with its resolution.
Replaying that to the policy would skip every fill as `market_resolved`, so
`ReplayMarkets` shows a market open and unresolved until its resolution time and as
recorded afterwards. The resolution time is the metadata's own (Gamma `closedTime`)
when it is known and after the market's last replayed fill; otherwise the end of the
replay.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from polytail.domain.ids import ConditionId, TokenId
from polytail.domain.market import Market
from polytail.venue.errors import MalformedRow, NotFound
from polytail.venue.normalize.clob_markets import market_from_clob
from polytail.venue.normalize.gamma import market_from_gamma, markets_from_event


class MarketFileError(ValueError):
    """A metadata file that cannot be read at all; the message says what was expected."""


@dataclass
class MarketCatalog:
    """Every market the replay knows, by condition id and by outcome token."""

    by_condition: dict[ConditionId, Market] = field(default_factory=dict)
    by_token: dict[TokenId, Market] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, paths: Sequence[Path | str]) -> MarketCatalog:
        catalog = cls()
        for path in paths:
            try:
                objects = read_objects(Path(path))
            except MarketFileError as error:
                catalog.problems.append(str(error))
                continue
            for market in _markets_in(objects, Path(path), catalog.problems):
                catalog.add(market, origin=Path(path).name)
        return catalog

    @classmethod
    def of(cls, markets: Iterable[Market]) -> MarketCatalog:
        catalog = cls()
        for market in markets:
            catalog.add(market, origin="given")
        return catalog

    def add(self, market: Market, *, origin: str) -> None:
        """Add a market; a second copy of one fills in a missing resolution only."""
        known = self.by_condition.get(market.condition_id)
        if known is not None:
            if known.resolution is not None and market.resolution is not None:
                if known.resolution.payouts != market.resolution.payouts:
                    self.problems.append(
                        f"{origin}: market {market.condition_id} resolves differently than an "
                        f"earlier copy ({market.resolution.payouts} vs "
                        f"{known.resolution.payouts}); the first one is used"
                    )
                return
            if known.resolution is not None or market.resolution is None:
                return
        self.by_condition[market.condition_id] = market
        for token in market.token_ids:
            self.by_token[token] = market

    def __len__(self) -> int:
        return len(self.by_condition)

    def get(self, condition: ConditionId) -> Market | None:
        return self.by_condition.get(condition)

    def for_token(self, token: TokenId) -> Market | None:
        return self.by_token.get(token)


def read_objects(path: Path) -> list[Any]:
    """The JSON objects of a file: one object, an array, `{data: [...]}`, or JSON lines
    (optionally gzipped)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise MarketFileError(f"{path}: cannot read ({error.strerror or error})") from None
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if not raw.strip():
        raise MarketFileError(f"{path}: the file is empty")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        document = _json_lines(raw, path)
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        return list(document["data"])  # CLOB /markets listing
    if isinstance(document, list):
        return document
    return [document]


def _json_lines(raw: bytes, path: Path) -> list[Any]:
    items: list[Any] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            raise MarketFileError(
                f"{path}: line {number} is not JSON (expected market JSON: an object, an "
                "array, or one object per line)"
            ) from None
    return items


def _markets_in(objects: list[Any], path: Path, problems: list[str]) -> Iterator[Market]:
    for index, entry in enumerate(objects):
        where = f"{path.name}[{index}]"
        wrapped = isinstance(entry, dict) and isinstance(entry.get("raw"), dict)
        item = entry["raw"] if wrapped else entry  # vendor lines: {slug, ..., raw: {...}}
        if not isinstance(item, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        try:
            if isinstance(item.get("markets"), list):  # a Gamma event
                found, rejects = markets_from_event(item)
                problems.extend(f"{where}: {reject}" for reject in rejects)
                yield from found
            elif "condition_id" in item and "tokens" in item:
                yield _clob_market(item, where, problems)
            elif "conditionId" in item:
                yield market_from_gamma(item)
            else:
                problems.append(
                    f"{where}: not market metadata (expected a Gamma market or event, or a "
                    f"CLOB /markets object); keys {sorted(item)[:8]}"
                )
        except MalformedRow as error:
            problems.append(f"{where}: {error}")


def _clob_market(item: dict[str, Any], where: str, problems: list[str]) -> Market:
    market = market_from_clob(item)
    for key in ("taker_base_fee", "maker_base_fee"):
        value = item.get(key)
        if value not in (None, 0, "0", ""):
            problems.append(
                f"{where}: market {market.condition_id} has {key}={value}, which the CLOB "
                "/markets object does not describe as a fee curve; fees are not modelled for "
                "it (give its Gamma JSON, which has feeSchedule)"
            )
    return market


@dataclass(frozen=True, slots=True)
class _Phases:
    open: Market
    final: Market
    resolves_at_ms: int | None  # None: never (no resolution in the metadata)


class ReplayMarkets:
    """A `MarketSource` over the catalog that shows each market as it was at `now_ms()`."""

    def __init__(
        self,
        catalog: MarketCatalog,
        now_ms: Callable[[], int],
        resolves_at_ms: Mapping[ConditionId, int | None],
        end_dates: Mapping[ConditionId, int] | None = None,
    ) -> None:
        self._now_ms = now_ms
        self._phases: dict[ConditionId, _Phases] = {}
        for condition, market in catalog.by_condition.items():
            opened = replace(
                market,
                resolution=None,
                closed=False,
                active=True,
                accepting_orders=True,
                end_date=(end_dates or {}).get(condition, market.end_date),
            )
            at = resolves_at_ms.get(condition) if market.resolution is not None else None
            self._phases[condition] = _Phases(opened, market, at)
        self._tokens = {
            token: condition
            for condition, phases in self._phases.items()
            for token in phases.final.token_ids
        }

    def at(self, condition: ConditionId, now_ms: int) -> Market:
        phases = self._phases.get(condition)
        if phases is None:
            raise NotFound(f"no metadata for market {condition} (add it with --markets)")
        resolved = phases.resolves_at_ms is not None and now_ms >= phases.resolves_at_ms
        return phases.final if resolved else phases.open

    async def get(self, condition: ConditionId) -> Market:
        return self.at(condition, self._now_ms())

    async def get_by_token(self, token: TokenId) -> Market:
        condition = self._tokens.get(token)
        if condition is None:
            raise NotFound(f"no metadata for the market of token {token} (add it with --markets)")
        return self.at(condition, self._now_ms())

    def condition_of(self, token: TokenId) -> ConditionId | None:
        return self._tokens.get(token)


def corrected_end_dates(
    catalog: MarketCatalog,
    last_fill_ms: Mapping[ConditionId, int],
    resolves_at_ms: Mapping[ConditionId, int | None],
    end_ms: int,
) -> dict[ConditionId, int]:
    """End dates (Unix s) for markets whose recorded end date is before their last
    replayed fill.

    A market was open at least until the leader's last fill in it, so such an end date
    is stale metadata (end dates move; Gamma keeps the first one on many markets). The
    replay uses the market's resolution time there, else the end of the replay, so the
    policy's time filters are not fooled by it.
    """
    corrected: dict[ConditionId, int] = {}
    for condition, last in last_fill_ms.items():
        market = catalog.get(condition)
        if market is None or market.end_date is None or market.end_date * 1000 >= last:
            continue
        until = resolves_at_ms.get(condition) or max(end_ms, last)
        corrected[condition] = -(-until // 1000)
    return corrected


def resolution_times(
    catalog: MarketCatalog, last_fill_ms: Mapping[ConditionId, int], end_ms: int
) -> dict[ConditionId, int | None]:
    """When each market resolves in the replay (None: it does not).

    The metadata's resolution time when it is known and after the market's last
    replayed fill (a fill after it would contradict the metadata, so it is not trusted);
    otherwise just after the end of the replay (1 ms after its last delivery).
    """
    times: dict[ConditionId, int | None] = {}
    for condition, market in catalog.by_condition.items():
        if market.resolution is None:
            times[condition] = None
            continue
        resolved_s = market.resolution.resolved_at
        end = max(end_ms, last_fill_ms.get(condition, 0)) + 1
        if resolved_s is not None and resolved_s * 1000 > last_fill_ms.get(condition, 0):
            times[condition] = min(resolved_s * 1000, end)
        else:
            times[condition] = end
    return times

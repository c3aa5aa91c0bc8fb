"""Books for a replay: recorded snapshots where they exist, the price model elsewhere.

`RecordedBooks` holds time-indexed snapshots: the resolvedkit parquet layout (one row
per market, side and time: `market_id, ts, side, bid_px[], bid_sz[], ask_px[], ask_sz[]`,
where `side` names the outcome, e.g. UP/DOWN) or CLOB `/book` replies (one per line or
an array; `asset_id` and `timestamp` in ms). The book a copy sees is the latest snapshot
at or before the moment it reaches the market, if it is at most `max_age_ms` old.

`ReplayBooks` is the engine's `BookSource` during a replay: the policy reads it to
decide, the paper broker walks it to fill, housekeeping marks positions with it. The
replay driver moves it along the tape (`move`), so every reader sees the same moment.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from polytail.backtest.markets import MarketCatalog, MarketFileError, read_objects
from polytail.backtest.pricing import PriceModel
from polytail.backtest.tape import Tape
from polytail.domain.book import BookError, Level, OrderBook
from polytail.domain.ids import TokenId
from polytail.domain.market import Market
from polytail.domain.money import Price, Shares
from polytail.venue.errors import MalformedRow, NotFound
from polytail.venue.normalize.book import book_from_clob

_MICRO = Decimal(1).scaleb(-6)
Key = tuple[str, str]  # (condition id, outcome label) or ("", token id)


class _Series:
    """Snapshots of one outcome, by time; converted to books on first use."""

    def __init__(self) -> None:
        self.times: list[int] = []
        self.rows: list[Any] = []
        self.books: dict[int, OrderBook] = {}

    def add(self, at_ms: int, row: Any) -> None:
        self.times.append(at_ms)
        self.rows.append(row)

    def sort(self) -> None:
        order = sorted(range(len(self.times)), key=self.times.__getitem__)
        self.times = [self.times[i] for i in order]
        self.rows = [self.rows[i] for i in order]


class RecordedBooks:
    def __init__(self) -> None:
        self._series: dict[Key, _Series] = {}
        self.problems: list[str] = []
        self.snapshots = 0

    @classmethod
    def load(cls, paths: Sequence[Path | str]) -> RecordedBooks:
        books = cls()
        for raw_path in paths:
            path = Path(raw_path)
            try:
                if path.suffix == ".parquet":
                    books._parquet(path)
                else:
                    books._json(path)
            except (MarketFileError, OSError, ValueError) as error:
                books.problems.append(f"{path}: {error}")
        for series in books._series.values():
            series.sort()
        return books

    def _parquet(self, path: Path) -> None:
        import pyarrow.parquet as pq  # noqa: PLC0415 - heavy; only recorded books need it

        columns = ["market_id", "ts", "side", "bid_px", "bid_sz", "ask_px", "ask_sz"]
        try:
            table = pq.read_table(path, columns=columns)
        except Exception as error:  # pyarrow raises several types; all mean "unreadable"
            raise ValueError(f"not a book parquet with columns {columns}: {error}") from None
        data = table.to_pydict()
        for i, condition in enumerate(data["market_id"]):
            key = (str(condition).lower(), str(data["side"][i]).strip().lower())
            row = tuple(data[name][i] for name in ("bid_px", "bid_sz", "ask_px", "ask_sz"))
            self._series.setdefault(key, _Series()).add(int(data["ts"][i]), row)
            self.snapshots += 1

    def _json(self, path: Path) -> None:
        for index, raw in enumerate(read_objects(path)):
            if not isinstance(raw, dict) or "asset_id" not in raw:
                self.problems.append(f"{path.name}[{index}]: not a CLOB /book object")
                continue
            stamp = raw.get("timestamp")
            try:
                at_ms = int(str(stamp))
            except ValueError:
                self.problems.append(f"{path.name}[{index}]: timestamp {stamp!r} is not ms")
                continue
            key = ("", str(raw["asset_id"]))
            self._series.setdefault(key, _Series()).add(at_ms, raw)
            self.snapshots += 1

    def __len__(self) -> int:
        return self.snapshots

    def at(
        self, token: TokenId, market: Market | None, at_ms: int, max_age_ms: int
    ) -> OrderBook | None:
        """The latest snapshot of `token` at or before `at_ms`, at most `max_age_ms` old."""
        series = self._series.get(("", token))
        if series is None and market is not None:
            label = market.outcome_for(token).label.strip().lower()
            series = self._series.get((market.condition_id, label))
        if series is None:
            return None
        index = bisect_right(series.times, at_ms) - 1
        if index < 0 or at_ms - series.times[index] > max_age_ms:
            return None
        book = series.books.get(index)
        if book is None:
            try:
                book = _book(token, series.times[index], series.rows[index])
            except (MalformedRow, BookError, ValueError) as error:
                self.problems.append(f"snapshot of {token} at {series.times[index]}: {error}")
                return None
            series.books[index] = book
        return book


def _book(token: TokenId, at_ms: int, row: Any) -> OrderBook:
    if isinstance(row, dict):
        book = book_from_clob(row)
        return OrderBook(token, book.bids, book.asks, at_ms, book.tick, book.min_size)
    bid_px, bid_sz, ask_px, ask_sz = row
    return OrderBook(
        token_id=token,
        bids=_levels(bid_px, bid_sz, descending=True),
        asks=_levels(ask_px, ask_sz, descending=False),
        timestamp_ms=at_ms,
    )


def _levels(prices: Any, sizes: Any, *, descending: bool) -> tuple[Level, ...]:
    """Parquet floats, converted once here (`Decimal(repr(x))`): prices to the nearest
    micro-unit (they are on the tick), sizes down to the base unit (never more depth)."""
    merged: dict[int, int] = {}
    for price, size in zip(prices or (), sizes or (), strict=False):
        micros = int(Decimal(repr(price)).quantize(_MICRO, ROUND_HALF_EVEN).scaleb(6))
        units = int(Decimal(repr(size)).quantize(_MICRO, ROUND_FLOOR).scaleb(6))
        if units > 0 and 0 < micros < 1_000_000:
            merged[micros] = merged.get(micros, 0) + units
    return tuple(
        Level(Price(micros), Shares(merged[micros]))
        for micros in sorted(merged, reverse=descending)
    )


class ReplayBooks:
    """The engine's `BookSource` during a replay."""

    def __init__(
        self,
        tape: Tape,
        catalog: MarketCatalog,
        model: PriceModel,
        recorded: RecordedBooks | None = None,
        *,
        max_age_ms: int = 60_000,
    ) -> None:
        self.tape = tape
        self.catalog = catalog
        self.model = model
        self.recorded = recorded
        self.max_age_ms = max_age_ms
        self.horizon = 0
        self.now_ms = 0
        self.served: Counter[str] = Counter()  # "recorded" / "model": books handed out
        self._cache: dict[TokenId, tuple[Decimal, OrderBook]] = {}

    def move(self, *, horizon: int, now_ms: int) -> None:
        self.horizon = horizon
        self.now_ms = now_ms

    def reference(self, token: TokenId) -> Decimal | None:
        """The price model's reference price of `token` now (the tape's last price)."""
        return self.tape.last_price(token, self.horizon)

    def recorded_book(self, token: TokenId) -> OrderBook | None:
        if self.recorded is None:
            return None
        return self.recorded.at(token, self.catalog.for_token(token), self.now_ms, self.max_age_ms)

    async def book(self, token: TokenId) -> OrderBook:
        recorded = self.recorded_book(token)
        if recorded is not None:
            self.served["recorded"] += 1
            return recorded
        reference = self.reference(token)
        if reference is None:
            raise NotFound(f"no recorded book and no traded price yet for token {token}")
        self.served["model"] += 1
        cached = self._cache.get(token)
        if cached is not None and cached[0] == reference:
            return cached[1]
        book = self.model.book(token, reference, at_ms=self.now_ms)
        self._cache[token] = (reference, book)
        return book

"""Where the merger keeps what it passed on and where each feed resumes.

Live runs use the store (`fills_seen`, `feed_cursors`): the fills of a batch and the
cursor that covers them are written in one transaction, so after a crash either both are
there or neither, and a restart neither replays nor skips. Replays and backtests use the
same rule on a `MemoryJournal`, without a database or an event loop.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from polytail.domain.fills import FeedSource, LeaderFill
from polytail.domain.ids import FillId, TxHash
from polytail.store import Store
from polytail.store.store import Transaction


@dataclass(frozen=True, slots=True)
class Recorded:
    """A fill the merger passed on (its size is what was passed on), and who saw it."""

    fill: LeaderFill
    sources: frozenset[FeedSource]


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where one feed resumes (`feed`, `key`: the feed's name and e.g. a wallet)."""

    feed: str
    key: str
    value: str


class JournalTx(Protocol):
    def recorded(self, tx_hashes: Collection[TxHash], loose: Collection[FillId]) -> list[Recorded]:
        """Every recorded fill of these transactions, and these fills without one."""

    def record(self, fills: Sequence[LeaderFill], at_ms: int) -> set[FillId]:
        """Insert fills not recorded yet; returns the ids that were inserted."""

    def enrich(self, sighting: LeaderFill, at_ms: int) -> None:
        """Fold a later sighting of a recorded fill into it (gaps only, adds its source)."""

    def save_cursor(self, cursor: Cursor, at_ms: int) -> None: ...


class Journal(Protocol):
    def transaction(self) -> AbstractContextManager[JournalTx]:
        """One atomic unit: everything inside is kept, or nothing."""

    def cursors(self, feed: str) -> dict[str, str]: ...


class StoreJournal:
    """The journal in the database (synchronous: call it from a worker thread)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @contextmanager
    def transaction(self) -> Iterator[JournalTx]:
        with self.store.transaction() as tx:
            yield _StoreTx(tx)

    def cursors(self, feed: str) -> dict[str, str]:
        with self.store.read() as tx:
            return tx.cursors.load_all(feed)


class _StoreTx:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    def recorded(self, tx_hashes: Collection[TxHash], loose: Collection[FillId]) -> list[Recorded]:
        found = [
            Recorded(fill, sources) for fill, sources in self._tx.fills.in_transactions(tx_hashes)
        ]
        for fill_id in loose:
            fill = self._tx.fills.get(fill_id)
            if fill is not None:
                found.append(Recorded(fill, self._tx.fills.sources(fill_id)))
        return found

    def record(self, fills: Sequence[LeaderFill], at_ms: int) -> set[FillId]:
        return set(self._tx.fills.record(fills, seen_at_ms=at_ms)) if fills else set()

    def enrich(self, sighting: LeaderFill, at_ms: int) -> None:
        self._tx.fills.enrich(sighting, at_ms=at_ms)

    def save_cursor(self, cursor: Cursor, at_ms: int) -> None:
        self._tx.cursors.save(cursor.feed, cursor.key, cursor.value, at_ms=at_ms)


@dataclass
class MemoryJournal:
    """The journal in memory: replays, backtests and tests of the rule itself."""

    fills: dict[FillId, Recorded] = field(default_factory=dict)
    by_tx: dict[TxHash, list[FillId]] = field(default_factory=dict)
    saved: dict[tuple[str, str], str] = field(default_factory=dict)

    @contextmanager
    def transaction(self) -> Iterator[JournalTx]:
        staged = _MemoryTx(self)
        yield staged
        staged.commit()

    def cursors(self, feed: str) -> dict[str, str]:
        return {key: value for (name, key), value in self.saved.items() if name == feed}


class _MemoryTx:
    def __init__(self, journal: MemoryJournal) -> None:
        self._journal = journal
        self._fills: dict[FillId, Recorded] = {}
        self._saved: dict[tuple[str, str], str] = {}

    def _get(self, fill_id: FillId) -> Recorded | None:
        return self._fills.get(fill_id) or self._journal.fills.get(fill_id)

    def recorded(self, tx_hashes: Collection[TxHash], loose: Collection[FillId]) -> list[Recorded]:
        ids = [fid for tx in tx_hashes for fid in self._journal.by_tx.get(tx, ())]
        ids += [fid for fid, staged in self._fills.items() if staged.fill.tx_hash in tx_hashes]
        ids += list(loose)
        found = (self._get(fid) for fid in dict.fromkeys(ids))
        return [recorded for recorded in found if recorded is not None]

    def record(self, fills: Sequence[LeaderFill], at_ms: int) -> set[FillId]:
        inserted: set[FillId] = set()
        for fill in fills:
            if self._get(fill.fill_id) is None:
                self._fills[fill.fill_id] = Recorded(fill, frozenset({fill.source}))
                inserted.add(fill.fill_id)
        return inserted

    def enrich(self, sighting: LeaderFill, at_ms: int) -> None:
        current = self._get(sighting.fill_id)
        if current is not None:
            self._fills[sighting.fill_id] = Recorded(
                current.fill.enriched_by(sighting), current.sources | {sighting.source}
            )

    def save_cursor(self, cursor: Cursor, at_ms: int) -> None:
        self._saved[(cursor.feed, cursor.key)] = cursor.value

    def commit(self) -> None:
        journal = self._journal
        for fill_id, recorded in self._fills.items():
            if fill_id not in journal.fills and recorded.fill.tx_hash is not None:
                journal.by_tx.setdefault(recorded.fill.tx_hash, []).append(fill_id)
            journal.fills[fill_id] = recorded
        journal.saved.update(self._saved)

"""The merger: every feed's sightings in, each leader fill out exactly once.

**The rule.** Fills are compared within their *group*: one transaction, one wallet, one
outcome, one side. Identity first: a sighting whose `FillId` was already passed on only
enriches it (a new feed, the on-chain log index). A sighting with a new id is passed on
only for the quantity its group has not yet been given:

    passed on (group) == max over views of (quantity that view reported for the group)

where a *view* is how a source partitions a transaction: the Data API and RTDS list rows
("api"), the chain lists `OrderFilled` events ("chain"). Both describe the same shares,
but not always in the same pieces: the taking order's own event sums all its matches,
and the API may list one row per match. With exact ids alone, the chain's sum would look
like a new fill and be copied twice. With the rule, whichever view arrives first is
passed on, and the other adds only what goes beyond it: nothing when they agree. A
sighting that would add less than `dust` (0.01 share) is absorbed: the views may differ
by such amounts when fees are taken in shares (UNCERTAIN, polymarket-api.md §1.8).

Within a view, identical rows of one transaction are distinct fills (occurrence 0, 1,
...; numbered per response by the venue normalizers), while the same row seen again is the
same id. The stream can only ever add occurrence 0 of a key: a second identical fill is
delivered by the poll or chain feed, which see whole transactions.

Failure modes this cannot produce: a double copy (a view never reports a share twice, so
the maximum never exceeds the real quantity). What it can produce: a fill passed on in
two pieces (the first view's part, then the other view's excess), and, when fees make
the views differ by more than dust, a small extra piece. Both are visible in the journal.

`MergeCore` is synchronous (replays and backtests call it directly on a
`MemoryJournal`); `FillMerger` runs it for the live feeds on the store, off the event
loop, one batch at a time, and hands out the fills in an `asyncio.Queue`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from polytail.config.schema import FeedsSettings
from polytail.domain.clock import Clock
from polytail.domain.fills import FeedSource, LeaderFill
from polytail.domain.ids import FillId, TxHash
from polytail.domain.money import Rounding, Shares
from polytail.feeds.clock import WallClock
from polytail.feeds.journal import Cursor, Journal, Recorded, StoreJournal
from polytail.feeds.observe import FeedObserver, NullObserver
from polytail.feeds.seen import SOURCE_BITS, SeenSet, seen_key, sources_mask
from polytail.store import Store

DUST: Final = Shares(10_000)
"""0.01 share: differences between views below this are not passed on (UNCERTAIN)."""

_REPLAYED_LOG: Final = 32  # a replayed chain log: another view than a replayed API row
_API_SOURCES: Final = frozenset({FeedSource.STREAM, FeedSource.POLL, FeedSource.BACKFILL})

GroupKey = tuple[str, str, str, str]


def group_of(fill: LeaderFill) -> GroupKey:
    """(transaction, wallet, outcome, side); a fill without a transaction is its own group."""
    if fill.tx_hash is None:
        return ("", fill.fill_id, "", "")
    return (fill.tx_hash, fill.wallet, fill.token_id, fill.side.value)


def is_log(fill: LeaderFill) -> bool:
    """Chain view: only `OrderFilled` logs carry a log index; no API row does."""
    return fill.log_index is not None


def sighting_bit(fill: LeaderFill) -> int:
    if fill.source is FeedSource.REPLAY and fill.log_index is not None:
        return _REPLAYED_LOG
    return SOURCE_BITS[fill.source]


def _reported_by(recorded: Recorded, logs: bool) -> bool:
    """Did this view report the recorded fill? (When unsure, no: undercounting a view can
    only pass on less, never twice.)"""
    if logs:
        return recorded.fill.log_index is not None
    return bool(recorded.sources & _API_SOURCES) or (
        FeedSource.REPLAY in recorded.sources and recorded.fill.log_index is None
    )


def _adds_information(sighting: LeaderFill, recorded: Recorded) -> bool:
    return sighting.source not in recorded.sources or (
        sighting.log_index is not None and recorded.fill.log_index is None
    )


def part_of(fill: LeaderFill, units: int) -> LeaderFill:
    """The fill reduced to `units` shares (its notional pro rata, half-even)."""
    return replace(
        fill,
        size=Shares(units),
        usdc=fill.usdc.scale(units, fill.size.units, Rounding.HALF_EVEN),
    )


@dataclass(slots=True)
class Plan:
    """What to do with one batch: pass on, enrich, absorb, or nothing (duplicates)."""

    emit: list[LeaderFill] = field(default_factory=list)
    enrich: list[LeaderFill] = field(default_factory=list)
    absorbed: list[LeaderFill] = field(default_factory=list)
    duplicates: list[LeaderFill] = field(default_factory=list)


def reconcile(
    sightings: Sequence[LeaderFill],
    recorded: Mapping[FillId, Recorded],
    plan: Plan,
    *,
    dust: int = DUST.units,
) -> None:
    """Decide one group's sightings against what was recorded of that group (pure)."""
    known = dict(recorded)
    passed_on = sum(r.fill.size.units for r in known.values())
    views: tuple[list[LeaderFill], list[LeaderFill]] = ([], [])
    batch_ids: tuple[set[FillId], set[FillId]] = (set(), set())
    for sighting in sightings:
        logs = is_log(sighting)
        if sighting.fill_id in batch_ids[logs]:
            plan.duplicates.append(sighting)  # the same row twice in one batch
            continue
        batch_ids[logs].add(sighting.fill_id)
        views[logs].append(sighting)
    for logs, reports in ((False, views[0]), (True, views[1])):
        if not reports:
            continue
        reported = sum(s.size.units for s in reports) + sum(
            r.fill.size.units
            for fill_id, r in known.items()
            if fill_id not in batch_ids[logs] and _reported_by(r, logs)
        )
        excess = reported - passed_on
        for sighting in reports:
            before = known.get(sighting.fill_id)
            if before is not None:
                if _adds_information(sighting, before):
                    plan.enrich.append(sighting)
                    known[sighting.fill_id] = Recorded(
                        before.fill.enriched_by(sighting), before.sources | {sighting.source}
                    )
                else:
                    plan.duplicates.append(sighting)
                continue
            units = sighting.size.units
            take = min(units, max(excess, 0))
            if take == units or take > dust:
                fill = sighting if take == units else part_of(sighting, take)
                plan.emit.append(fill)
                known[fill.fill_id] = Recorded(fill, frozenset({fill.source}))
                passed_on += take
                excess -= take
            else:
                plan.absorbed.append(sighting)


@dataclass(slots=True)
class Outcome:
    """The result of one merged batch, in causal order (venue time, then batch order)."""

    emitted: list[LeaderFill] = field(default_factory=list)
    enriched: list[LeaderFill] = field(default_factory=list)
    absorbed: list[LeaderFill] = field(default_factory=list)
    duplicates: list[LeaderFill] = field(default_factory=list)
    marks: list[tuple[int, int]] = field(default_factory=list)  # seen-set updates


class MergeCore:
    """The rule applied to batches against a journal; synchronous and single-threaded."""

    def __init__(self, journal: Journal, seen: SeenSet, *, dust: Shares = DUST) -> None:
        self.journal = journal
        self.seen = seen
        self.dust = dust.units

    def triage(
        self, fills: Sequence[LeaderFill]
    ) -> tuple[list[list[LeaderFill]], list[LeaderFill]]:
        """Split a batch into groups that need the journal, and sightings already known.

        A group needs the journal when any of its sightings is new for its feed; then the
        whole group goes, because the rule compares whole groups.
        """
        groups: dict[GroupKey, list[LeaderFill]] = {}
        dirty: set[GroupKey] = set()
        seen = self.seen
        for fill in fills:
            key = group_of(fill)
            members = groups.get(key)
            if members is None:
                groups[key] = members = []
            members.append(fill)
            if not seen.mask(seen_key(fill.fill_id)) & sighting_bit(fill):
                dirty.add(key)
        pending = [members for key, members in groups.items() if key in dirty]
        known = [fill for key, members in groups.items() if key not in dirty for fill in members]
        return pending, known

    def apply(
        self, groups: Sequence[Sequence[LeaderFill]], cursor: Cursor | None, at_ms: int
    ) -> Outcome:
        """Decide `groups` against the journal and record the decision, atomically."""
        outcome = Outcome()
        with self.journal.transaction() as tx:
            recorded = _by_group(tx.recorded(*_lookups(groups))) if groups else {}
            plan = Plan()
            for members in groups:
                reconcile(members, recorded.get(group_of(members[0]), {}), plan, dust=self.dust)
            inserted = tx.record(plan.emit, at_ms)
            for sighting in plan.enrich:
                tx.enrich(sighting, at_ms)
            if cursor is not None:
                tx.save_cursor(cursor, at_ms)
        outcome.emitted = sorted(
            (fill for fill in plan.emit if fill.fill_id in inserted), key=_venue_time
        )
        outcome.duplicates = plan.duplicates + [f for f in plan.emit if f.fill_id not in inserted]
        outcome.enriched, outcome.absorbed = plan.enrich, plan.absorbed
        for members in groups:
            known = recorded.get(group_of(members[0]), {})
            for fill in members:
                before = known.get(fill.fill_id)
                mask = sighting_bit(fill) | (sources_mask(before.sources) if before else 0)
                outcome.marks.append((seen_key(fill.fill_id), mask))
        return outcome

    def remember(self, outcome: Outcome) -> None:
        for key, mask in outcome.marks:
            self.seen.add(key, mask)

    def merge(
        self, fills: Sequence[LeaderFill], *, cursor: Cursor | None = None, at_ms: int = 0
    ) -> Outcome:
        """Triage, apply and remember in one call (replays; no event loop needed)."""
        pending, known = self.triage(fills)
        if not pending and cursor is None:
            return Outcome(duplicates=known)
        outcome = self.apply(pending, cursor, at_ms)
        self.remember(outcome)
        outcome.duplicates.extend(known)
        return outcome


def _venue_time(fill: LeaderFill) -> int:
    return fill.timestamp


def _lookups(groups: Sequence[Sequence[LeaderFill]]) -> tuple[set[TxHash], set[FillId]]:
    tx_hashes: set[TxHash] = set()
    loose: set[FillId] = set()
    for members in groups:
        for fill in members:
            if fill.tx_hash is None:
                loose.add(fill.fill_id)
            else:
                tx_hashes.add(fill.tx_hash)
    return tx_hashes, loose


def _by_group(recorded: list[Recorded]) -> dict[GroupKey, dict[FillId, Recorded]]:
    grouped: dict[GroupKey, dict[FillId, Recorded]] = {}
    for entry in recorded:
        grouped.setdefault(group_of(entry.fill), {})[entry.fill.fill_id] = entry
    return grouped


Listener = Callable[[LeaderFill], None]


class FillMerger:
    """The live merger: feeds `submit` batches; the engine reads fills from `get`/`async for`.

    Batches are decided one at a time against the store, in a worker thread (the
    transaction that records the fills also saves the feed's cursor). A fill is recorded
    before it is handed out, so a crash can never lead to passing it on again. Each
    fill gets `stamps.merged_ns` / `merged_ms` as it is handed out.
    """

    def __init__(
        self,
        journal: Journal,
        *,
        seen_capacity: int = 1_000_000,
        clock: Clock | None = None,
        observer: FeedObserver | None = None,
        dust: Shares = DUST,
        in_thread: bool = True,
    ) -> None:
        """`in_thread`: run the journal in a worker thread (a database); False for a
        `MemoryJournal`, which is fast and keeps a simulated clock deterministic."""
        self.journal = journal
        self.in_thread = in_thread
        self.core = MergeCore(journal, SeenSet(seen_capacity), dust=dust)
        self.clock: Clock = clock or WallClock()
        self.observer: FeedObserver = observer or NullObserver()
        self._queue: asyncio.Queue[LeaderFill] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._listeners: list[Listener] = []
        self._inflight: set[asyncio.Task[Outcome]] = set()

    @classmethod
    def for_store(
        cls,
        store: Store,
        settings: FeedsSettings,
        *,
        clock: Clock | None = None,
        observer: FeedObserver | None = None,
    ) -> FillMerger:
        return cls(
            StoreJournal(store),
            seen_capacity=settings.seen_capacity,
            clock=clock,
            observer=observer,
        )

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every fill handed out (cheap, synchronous: e.g. the poller's
        activity hint). Returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def submit(self, fills: Sequence[LeaderFill], *, cursor: Cursor | None = None) -> Outcome:
        """Merge one batch from one feed; `cursor` is saved with the fills it covers.

        Cancelling the caller does not cancel a batch already being written: it is
        recorded and handed out all the same, so nothing recorded is ever lost.
        """
        pending, known = self.core.triage(fills)
        if known:
            now = self.clock.now_ms()
            for fill in known:
                self.observer.fill_sighted(fill.source, True, now)
        if not pending and cursor is None:
            return Outcome(duplicates=known)
        task = asyncio.ensure_future(self._apply(pending, cursor))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        outcome = await asyncio.shield(task)
        outcome.duplicates.extend(known)
        return outcome

    async def _apply(self, pending: list[list[LeaderFill]], cursor: Cursor | None) -> Outcome:
        async with self._lock:
            at_ms = self.clock.now_ms()
            if self.in_thread:
                outcome = await asyncio.to_thread(self.core.apply, pending, cursor, at_ms)
            else:
                outcome = self.core.apply(pending, cursor, at_ms)
            self.core.remember(outcome)
            self._hand_out(outcome)
        return outcome

    def _hand_out(self, outcome: Outcome) -> None:
        merged_ns, merged_ms = self.clock.monotonic_ns(), self.clock.now_ms()
        stamped: list[LeaderFill] = []
        for fill in outcome.emitted:
            stamps = replace(fill.stamps, merged_ns=merged_ns, merged_ms=merged_ms)
            stamped.append(replace(fill, stamps=stamps))
        outcome.emitted = stamped
        observer = self.observer
        for fill in stamped:
            self._queue.put_nowait(fill)
            observer.fill_sighted(fill.source, False, merged_ms)
            observer.fill_detected(fill, merged_ms)
            for listener in tuple(self._listeners):
                listener(fill)
        for fill in (*outcome.enriched, *outcome.absorbed, *outcome.duplicates):
            observer.fill_sighted(fill.source, True, merged_ms)

    async def drain(self) -> None:
        """Wait for every batch already being written (before shutting down)."""
        while self._inflight:
            await asyncio.gather(*tuple(self._inflight), return_exceptions=True)

    async def get(self) -> LeaderFill:
        """The next fill, in the order they were merged (causal per wallet)."""
        return await self._queue.get()

    def get_nowait(self) -> LeaderFill:
        return self._queue.get_nowait()

    def pending(self) -> int:
        """Fills merged but not yet taken by the engine."""
        return self._queue.qsize()

    async def __aiter__(self) -> AsyncIterator[LeaderFill]:
        while True:
            yield await self._queue.get()

    async def cursors(self, feed: str) -> dict[str, str]:
        """A feed's saved cursors (where it resumes after a restart)."""
        if self.in_thread:
            return await asyncio.to_thread(self.journal.cursors, feed)
        return self.journal.cursors(feed)

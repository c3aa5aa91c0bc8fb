"""Replay: recorded files as a feed, through the same merger, in venue-time order.

`replay_files` is pure and synchronous (no event loop, no database): backtests and
`polytail feeds replay` call it. `ReplayFeed` submits the same batches to a live
`FillMerger`, for running the engine on a recording.

Batches are (file, venue second): a transaction's rows share one second, so every batch
holds whole transactions, which is what the merger compares; seconds are replayed in
order, files in the order given within a second.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polytail.domain.fills import LeaderFill
from polytail.domain.ids import address
from polytail.feeds.formats import FileSightings, ReplayFormatError, load
from polytail.feeds.journal import MemoryJournal
from polytail.feeds.merge import DUST, FillMerger, MergeCore
from polytail.feeds.seen import SeenSet
from polytail.venue.errors import MalformedRow


@dataclass
class ReplayResult:
    fills: list[LeaderFill] = field(default_factory=list)
    files: list[FileSightings] = field(default_factory=list)
    broken: list[tuple[Path, str]] = field(default_factory=list)  # files not replayable
    absorbed: int = 0
    duplicates: int = 0

    @property
    def rejects(self) -> list[tuple[Path, MalformedRow]]:
        return [(found.path, error) for found in self.files for error in found.rejects]

    @property
    def ignored(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for found in self.files:
            total.update(found.ignored)
        return total

    @property
    def clean(self) -> bool:
        """Nothing was rejected: every row was a fill or a known non-trade row."""
        return not self.broken and not any(found.rejects for found in self.files)


def watched_set(wallets: Iterable[str] | None) -> set[str] | None:
    """Validated lowercase addresses (None or empty: every wallet)."""
    chosen = [address(wallet) for wallet in wallets or ()]
    return set(chosen) if chosen else None


def load_all(
    paths: Sequence[Path], watched: Collection[str] | None
) -> tuple[list[FileSightings], list[tuple[Path, str]]]:
    files: list[FileSightings] = []
    broken: list[tuple[Path, str]] = []
    for path in paths:
        try:
            files.append(load(path, watched))
        except ReplayFormatError as error:
            broken.append((path, str(error)))
    return files, broken


def batches(files: Sequence[FileSightings]) -> Iterator[list[LeaderFill]]:
    """Each file's sightings per venue second, seconds in order, files in order."""
    per_file: list[dict[int, list[LeaderFill]]] = []
    for found in files:
        seconds: dict[int, list[LeaderFill]] = {}
        for fill in found.fills:
            seconds.setdefault(fill.timestamp, []).append(fill)
        per_file.append(seconds)
    for second in sorted({second for seconds in per_file for second in seconds}):
        for seconds in per_file:
            batch = seconds.get(second)
            if batch:
                yield batch


def replay_files(
    paths: Sequence[Path | str],
    wallets: Iterable[str] | None = None,
    *,
    seen_capacity: int = 1_000_000,
) -> ReplayResult:
    """The merged, de-duplicated fills of recorded files, in venue-time order."""
    files, broken = load_all([Path(path) for path in paths], watched_set(wallets))
    core = MergeCore(MemoryJournal(), SeenSet(seen_capacity), dust=DUST)
    result = ReplayResult(files=files, broken=broken)
    for batch in batches(files):
        outcome = core.merge(batch)
        result.fills.extend(outcome.emitted)
        result.absorbed += len(outcome.absorbed)
        result.duplicates += len(outcome.duplicates) + len(outcome.enriched)
    return result


class ReplayFeed:
    """Files as a live feed: the same batches, submitted to a `FillMerger` in order."""

    def __init__(
        self, paths: Sequence[Path | str], merger: FillMerger, wallets: Iterable[str] | None = None
    ) -> None:
        self.paths = [Path(path) for path in paths]
        self.merger = merger
        self.watched = watched_set(wallets)
        self.files: list[FileSightings] = []
        self.broken: list[tuple[Path, str]] = []

    async def run(self) -> int:
        """Submit every batch; returns how many fills were handed out."""
        self.files, self.broken = await asyncio.to_thread(load_all, self.paths, self.watched)
        handed_out = 0
        for batch in batches(self.files):
            handed_out += len((await self.merger.submit(batch)).emitted)
        return handed_out


def fill_record(fill: LeaderFill) -> dict[str, Any]:
    """The JSON form of a fill (`polytail feeds replay --json`): decimals as strings."""
    return {
        "fill_id": fill.fill_id,
        "wallet": fill.wallet,
        "side": fill.side.value,
        "token_id": fill.token_id,
        "condition_id": fill.condition_id,
        "outcome_index": fill.outcome_index,
        "outcome": fill.outcome or None,
        "price": str(fill.price),
        "size": str(fill.size),
        "usdc": str(fill.usdc),
        "timestamp": fill.timestamp,
        "tx_hash": fill.tx_hash,
        "log_index": fill.log_index,
        "role": fill.role.value,
        "source": fill.source.value,
        "slug": fill.slug or None,
    }

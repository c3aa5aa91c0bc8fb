"""The merger's memory of fills it has settled, bounded, with the feeds that saw each.

The database (`fills_seen`) is the authority on which fills were passed on; this is the
cache in front of it that lets the common case, a fill reported again by the same feed
(every poll re-reads its overlap, the chain re-reads its tail, RTDS repeats frames), be
recognised without touching the database.

Memory per entry is what limits it at a million fills, so an entry is the fill id as one
integer (the 124-bit digest, exact: no false "seen") mapped to a small bit mask of feeds
(small ints are shared objects). Two generations bound it: when the young one is full it
becomes the old one and the previous old one is dropped, so at most `capacity` entries are
kept and the recently added ones survive. A dropped entry only costs a database lookup.
"""

from __future__ import annotations

from typing import Final

from polytail.domain.fills import FeedSource

SOURCE_BITS: Final = {
    FeedSource.STREAM: 1,
    FeedSource.POLL: 2,
    FeedSource.BACKFILL: 4,
    FeedSource.CHAIN: 8,
    FeedSource.REPLAY: 16,
}
_WITHOUT_TX: Final = 1 << 124  # "n" ids (no transaction hash) live apart from "f" ids


def sources_mask(sources: frozenset[FeedSource] | set[FeedSource]) -> int:
    mask = 0
    for source in sources:
        mask |= SOURCE_BITS[source]
    return mask


def seen_key(fill_id: str) -> int:
    """A fill id ("f" or "n" + 31 hex digits) as one integer."""
    value = int(fill_id[1:], 16)
    return value if fill_id[0] == "f" else value | _WITHOUT_TX


class SeenSet:
    __slots__ = ("_half", "_old", "_young", "capacity")

    def __init__(self, capacity: int) -> None:
        if capacity < 2:
            raise ValueError(f"seen capacity must be at least 2, got {capacity}")
        self.capacity = capacity
        self._half = capacity // 2
        self._young: dict[int, int] = {}
        self._old: dict[int, int] = {}

    def mask(self, key: int) -> int:
        """The feeds known to have reported this fill (0: not remembered)."""
        found = self._young.get(key)
        if found is None:
            found = self._old.get(key, 0)
        return found

    def add(self, key: int, mask: int) -> None:
        """Remember that the feeds in `mask` reported this fill (bits accumulate)."""
        young = self._young
        current = young.get(key)
        if current is None:
            current = self._old.pop(key, 0)
            if len(young) >= self._half:
                self._old = young
                self._young = young = {}
        young[key] = current | mask

    def __len__(self) -> int:
        return len(self._young) + len(self._old)

    def __contains__(self, key: object) -> bool:
        return key in self._young or key in self._old

"""The in-memory seen set stays within its capacity and keeps the newest entries."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from polytail.domain.fills import FeedSource
from polytail.feeds.seen import SOURCE_BITS, SeenSet, seen_key, sources_mask


def test_a_fill_id_maps_to_one_exact_integer_per_kind() -> None:
    assert seen_key("f" + "0" * 30 + "1") == 1
    assert seen_key("n" + "0" * 30 + "1") != seen_key("f" + "0" * 30 + "1")
    assert seen_key("f" + "f" * 31) == 16**31 - 1  # all 124 bits: no truncation


def test_the_feeds_that_saw_a_fill_accumulate() -> None:
    seen = SeenSet(10)
    seen.add(7, SOURCE_BITS[FeedSource.STREAM])
    seen.add(7, SOURCE_BITS[FeedSource.CHAIN])
    assert seen.mask(7) == sources_mask(frozenset({FeedSource.STREAM, FeedSource.CHAIN}))
    assert seen.mask(8) == 0


@given(st.integers(2, 64), st.lists(st.integers(0, 500), max_size=400))
def test_it_never_holds_more_than_its_capacity_and_keeps_the_latest(
    capacity: int, keys: list[int]
) -> None:
    seen = SeenSet(capacity)
    for key in keys:
        seen.add(key, 1)
        assert len(seen) <= capacity
    recent = list(dict.fromkeys(reversed(keys)))[: capacity // 2]
    assert all(key in seen for key in recent)  # the newest half survives any eviction

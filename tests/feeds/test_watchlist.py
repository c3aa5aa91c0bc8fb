"""The watch list changes at runtime: one live set for filters, change events for feeds."""

from __future__ import annotations

import pytest

from polytail.config.schema import PolytailConfig
from polytail.domain.ids import IdError
from polytail.feeds.watchlist import WatchChange, WatchList, watched_addresses

A = "0x" + "a" * 40
B = "0x" + "B" * 40  # checksummed or not, the same wallet
C = "0x" + "c" * 40


def test_updates_edit_the_live_set_in_place_and_tell_listeners_what_changed() -> None:
    watch = WatchList([A, B])
    live = watch.live
    changes: list[WatchChange] = []
    watch.subscribe(changes.append)
    watch.update([B.lower(), C])
    assert live is watch.live and live == {B.lower(), C}
    assert changes == [WatchChange(added=frozenset({C}), removed=frozenset({A}))]
    watch.update([C, B])
    assert len(changes) == 1  # no change, no event


def test_a_bad_address_changes_nothing_and_is_named() -> None:
    watch = WatchList([A])
    with pytest.raises(IdError, match="0xnope"):
        watch.update([C, "0xnope"])
    assert watch.snapshot() == {A}


def test_the_watched_wallets_are_the_enabled_leaders_of_the_config() -> None:
    config = PolytailConfig.model_validate(
        {"leaders": [{"address": A}, {"address": B, "enabled": False}, {"address": C}]}
    )
    assert watched_addresses(config) == [A, C]
    assert WatchList.from_config(config).snapshot() == {A, C}

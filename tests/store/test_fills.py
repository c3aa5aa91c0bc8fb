"""Leader fills and feed cursors: the durable seen-set says which fills are new, later
sightings only fill gaps, and a cursor is saved atomically with the fills it covers."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from polytail.domain.fills import FeedSource, LatencyStamps, LeaderFill, Role, Side
from polytail.domain.ids import address, fill_id, token_id, tx_hash
from polytail.domain.money import Shares, Usdc
from polytail.store import Store

WALLET = address("0x" + "c" * 40)
TOKEN = token_id("31580298928034717121287201018973507946553544207612680382558768593005033869136")


def sighting(number: int, source: FeedSource = FeedSource.STREAM) -> LeaderFill:
    tx = tx_hash("0x" + f"{number:064x}")
    size = Shares.parse("12.5")
    return LeaderFill(
        fill_id=fill_id(tx=tx, wallet=WALLET, token=TOKEN, side="BUY", size=size, occurrence=0),
        wallet=WALLET,
        side=Side.BUY,
        token_id=TOKEN,
        condition_id=None,
        outcome_index=None,
        price=Decimal("0.860000001148"),
        size=size,
        usdc=Usdc.parse("10.75"),
        timestamp=1_700_000_000 + number,
        tx_hash=tx,
        source=source,
        stamps=LatencyStamps(venue_ms=(1_700_000_000 + number) * 1000),
    )


def test_recording_returns_only_the_fills_never_seen_in_input_order(store: Store) -> None:
    with store.transaction() as tx:
        first = tx.fills.record([sighting(1), sighting(2)], seen_at_ms=10)
    with store.transaction() as tx:
        second = tx.fills.record(
            [sighting(3), sighting(2, FeedSource.POLL), sighting(3), sighting(4)], seen_at_ms=20
        )
    assert first == [sighting(1).fill_id, sighting(2).fill_id]
    assert second == [sighting(3).fill_id, sighting(4).fill_id]
    with store.read() as tx:
        assert tx.fills.get(sighting(2).fill_id) == sighting(2)  # exact price, first source
        assert tx.fills.known([sighting(n).fill_id for n in range(6)]) == {
            sighting(n).fill_id for n in range(1, 5)
        }


def test_large_batches_are_recorded_whole(store: Store) -> None:
    fills = [sighting(n) for n in range(1_203)]
    with store.transaction() as tx:
        assert len(tx.fills.record(fills, seen_at_ms=1)) == 1_203
        assert tx.fills.record(fills, seen_at_ms=2) == []


def test_a_later_sighting_fills_gaps_but_never_rewrites_what_was_known(store: Store) -> None:
    with store.transaction() as tx:
        tx.fills.record([sighting(1)], seen_at_ms=10)
    from_chain = replace(
        sighting(1, FeedSource.CHAIN),
        price=Decimal("0.86"),
        condition_id="0x" + "1" * 64,  # type: ignore[arg-type]
        outcome_index=0,
        log_index=7,
        role=Role.MAKER,
        fee=Usdc(0),
    )
    with store.transaction() as tx:
        enriched = tx.fills.enrich(from_chain, at_ms=20)
        assert tx.fills.enrich(sighting(99), at_ms=20) is None  # never recorded
    with store.read() as tx:
        stored = tx.fills.get(sighting(1).fill_id)
        assert stored == enriched
        assert stored is not None
        assert stored.price == Decimal("0.860000001148")  # the first sighting's price stays
        assert (stored.log_index, stored.role, stored.outcome_index) == (7, Role.MAKER, 0)
        assert tx.fills.sources(sighting(1).fill_id) == {FeedSource.STREAM, FeedSource.CHAIN}


def test_a_cursor_and_the_fills_it_covers_are_saved_together_or_not_at_all(store: Store) -> None:
    with store.transaction() as tx:
        tx.fills.record([sighting(1)], seen_at_ms=1)
        tx.cursors.save("poll", WALLET, "1700000001", at_ms=1)
    with pytest.raises(RuntimeError, match="crash"), store.transaction() as tx:
        tx.fills.record([sighting(2), sighting(3)], seen_at_ms=2)
        tx.cursors.save("poll", WALLET, "1700000003", at_ms=2)
        raise RuntimeError("crash before commit")
    with store.read() as tx:
        assert tx.cursors.load("poll", WALLET) == "1700000001"
        assert not tx.fills.has(sighting(2).fill_id)
    with store.transaction() as tx:  # the retry after the restart finds them new
        assert len(tx.fills.record([sighting(2), sighting(3)], seen_at_ms=3)) == 2
        tx.cursors.save("poll", WALLET, "1700000003", at_ms=3)
    with store.read() as tx:
        assert tx.cursors.load_all("poll") == {WALLET: "1700000003"}


def test_recent_fills_are_newest_first_and_filter_by_wallet(store: Store) -> None:
    other = replace(sighting(9), wallet=address("0x" + "d" * 40))
    with store.transaction() as tx:
        tx.fills.record([sighting(1), sighting(5), other], seen_at_ms=1)
    with store.read() as tx:
        assert [f.timestamp for f in tx.fills.recent(wallet=WALLET)] == [
            1_700_000_005,
            1_700_000_001,
        ]
        assert len(tx.fills.recent(limit=2)) == 2


def test_the_fills_of_transactions_come_back_whole_with_their_sources(store: Store) -> None:
    with store.transaction() as tx:
        tx.fills.record([sighting(n) for n in range(1, 4)], seen_at_ms=1)
        tx.fills.enrich(sighting(2, FeedSource.CHAIN), at_ms=2)
    with store.read() as tx:
        found = tx.fills.in_transactions(
            [sighting(2).tx_hash, sighting(3).tx_hash, sighting(9).tx_hash]
        )
    assert sorted((fill.tx_hash, sources) for fill, sources in found) == [
        (sighting(2).tx_hash, frozenset({FeedSource.STREAM, FeedSource.CHAIN})),
        (sighting(3).tx_hash, frozenset({FeedSource.STREAM})),
    ]

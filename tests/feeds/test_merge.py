"""The merger hands out every share of every fill exactly once, whatever reports it when.

Sightings come from the real normalizers (see factories): stream frames (occurrence 0
only), poll and backfill page walks and chain block ranges (whole transactions). The
ground truth is the quantity per (transaction, wallet, outcome, side).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polytail.domain.fills import FeedSource, LeaderFill, Role
from polytail.domain.money import Shares
from polytail.feeds.journal import Cursor, MemoryJournal, StoreJournal
from polytail.feeds.merge import DUST, FillMerger, MergeCore, group_of
from polytail.feeds.seen import SeenSet
from polytail.store import Store
from polytail.venue.normalize.activity import activity_batch

from .factories import Piece, api_fills, chain_fills, stream_fill, tx, wallet

LEADER = wallet(1)
UNITS = 1_000_000


def core(journal: MemoryJournal | StoreJournal | None = None, capacity: int = 1000) -> MergeCore:
    return MergeCore(journal or MemoryJournal(), SeenSet(capacity))


def totals(fills: Sequence[LeaderFill]) -> Counter[tuple[str, str, str, str]]:
    counted: Counter[tuple[str, str, str, str]] = Counter()
    for fill in fills:
        counted[group_of(fill)] += fill.size.units
    return counted


def test_a_fill_seen_by_every_feed_is_handed_out_once_and_enriched_by_the_chain() -> None:
    piece = Piece(tx(1), LEADER, "BUY", 10 * UNITS)
    merger = core()
    first = merger.merge([stream_fill(piece)])
    again = merger.merge([stream_fill(piece)])
    polled = merger.merge(api_fills([piece]))
    logged = merger.merge(chain_fills([piece], takers=[True]))
    assert [f.source for f in first.emitted] == [FeedSource.STREAM]
    assert again.emitted == polled.emitted == logged.emitted == []
    assert len(polled.enriched) == 1 and len(logged.enriched) == 1
    stored = merger.journal.fills[first.emitted[0].fill_id]  # type: ignore[attr-defined]
    assert stored.sources == {FeedSource.STREAM, FeedSource.POLL, FeedSource.CHAIN}
    assert stored.fill.log_index == 0 and stored.fill.role is Role.TAKER


def test_identical_fills_in_one_transaction_are_distinct_and_the_stream_adds_only_one() -> None:
    pieces = [Piece(tx(2), LEADER, "BUY", 5 * UNITS)] * 3
    merger = core()
    streamed = [merger.merge([stream_fill(p)]).emitted for p in pieces]
    polled = merger.merge(api_fills(pieces))
    assert [len(batch) for batch in streamed] == [1, 0, 0]  # a repeated frame is a repeat
    assert len(polled.emitted) == 2  # the poll sees the whole transaction: two more
    assert merger.merge(chain_fills(pieces)).emitted == []


def test_a_taker_summed_on_chain_but_listed_per_match_by_the_api_is_copied_once() -> None:
    # The taking order's own OrderFilled sums its matches; the API may list each match.
    matches = [Piece(tx(3), LEADER, "BUY", shares * UNITS) for shares in (60, 40, 25)]
    summed = Piece(tx(3), LEADER, "BUY", 125 * UNITS)
    for order in ("api first", "chain first", "stream, chain, poll"):
        merger = core()
        handed: list[LeaderFill] = []
        if order == "api first":
            handed += merger.merge(api_fills(matches)).emitted
            handed += merger.merge(chain_fills([summed], takers=[True])).emitted
        elif order == "chain first":
            handed += merger.merge(chain_fills([summed], takers=[True])).emitted
            handed += merger.merge(api_fills(matches)).emitted
        else:
            handed += merger.merge([stream_fill(matches[0])]).emitted
            handed += merger.merge(chain_fills([summed], takers=[True])).emitted
            handed += merger.merge(api_fills(matches)).emitted
        assert sum(f.size.units for f in handed) == 125 * UNITS, order
    # stream first: the 60 goes at once, the chain adds the other 65 as a part of its event
    assert [f.size.units for f in handed] == [60 * UNITS, 65 * UNITS]
    assert handed[1].role is Role.TAKER and handed[1].usdc.units == 65 * UNITS // 2


def test_a_frame_repeated_within_one_batch_counts_once_toward_its_group() -> None:
    matches = [Piece(tx(13), LEADER, "BUY", shares * UNITS) for shares in (5, 10)]
    merger = core()
    merger.merge(chain_fills([Piece(tx(13), LEADER, "BUY", 15 * UNITS)], takers=[True]))
    frames = [stream_fill(matches[0]), stream_fill(matches[0]), stream_fill(matches[1])]
    assert merger.merge(frames).emitted == []  # 5 + 10 is what the chain already gave


def test_two_hundred_fills_in_one_transaction_arrive_once_through_stream_poll_and_chain() -> None:
    pieces = [Piece(tx(4), LEADER, "BUY", 5 * UNITS)] * 200
    merger = core(capacity=64)  # evictions send repeats to the journal: still exact
    handed = merger.merge([stream_fill(pieces[0])] * 5).emitted
    handed += merger.merge(chain_fills(pieces[:120])).emitted  # a partial range, then more
    handed += merger.merge(api_fills(pieces)).emitted
    handed += merger.merge(chain_fills(pieces)).emitted
    handed += merger.merge(api_fills(pieces)).emitted
    assert len(handed) == 200 and len({f.fill_id for f in handed}) == 200


def test_a_wallet_trading_both_sides_and_both_outcomes_keeps_them_apart() -> None:
    yes_buy = Piece(tx(5), LEADER, "BUY", 10 * UNITS)
    yes_sell = Piece(tx(5), LEADER, "SELL", 10 * UNITS)
    no_buy = Piece(tx(5), LEADER, "BUY", 10 * UNITS, token="7" * 70)
    merger = core()
    handed = merger.merge(api_fills([yes_buy, yes_sell, no_buy])).emitted
    handed += merger.merge(chain_fills([yes_buy, yes_sell, no_buy])).emitted
    assert sorted((f.side.value, f.token_id[:3]) for f in handed) == [
        ("BUY", "315"),
        ("BUY", "777"),
        ("SELL", "315"),
    ]


def test_differences_below_dust_are_absorbed_and_larger_ones_handed_out() -> None:
    api = Piece(tx(6), LEADER, "BUY", 100 * UNITS)
    net = Piece(tx(6), LEADER, "BUY", 100 * UNITS - DUST.units // 2)  # fee taken in shares?
    merger = core()
    assert len(merger.merge(chain_fills([net], takers=[True])).emitted) == 1
    assert merger.merge(api_fills([api])).emitted == []  # 0.005 share: dust
    lower = Piece(tx(7), LEADER, "BUY", 99 * UNITS)
    merger.merge(chain_fills([lower], takers=[True]))
    (extra,) = merger.merge(api_fills([Piece(tx(7), LEADER, "BUY", 100 * UNITS)])).emitted
    assert extra.size == Shares(UNITS)  # the API's larger total: the missing share only


def test_non_trade_rows_never_become_fills() -> None:
    rows = [
        {"type": kind, "proxyWallet": LEADER, "timestamp": 1, "transactionHash": tx(8)}
        for kind in ("REDEEM", "MERGE", "SPLIT", "CONVERSION", "REWARD", "MAKER_REBATE")
    ]
    rows.append(
        {"type": "TRADE", "proxyWallet": LEADER, "outcomeIndex": 999, "asset": "", "side": ""}
    )
    batch = activity_batch(rows)
    assert batch.fills == [] and batch.rejects == []
    assert sum(batch.ignored.values()) == 7


def test_a_restarted_merger_on_the_same_journal_neither_replays_nor_skips() -> None:
    journal = MemoryJournal()
    pieces = [Piece(tx(9), LEADER, "BUY", 5 * UNITS)] * 3 + [Piece(tx(10), LEADER, "SELL", UNITS)]
    first = core(journal).merge(api_fills(pieces[:3]), cursor=Cursor("poll", LEADER, "1"))
    restarted = core(journal)
    again = restarted.merge(api_fills(pieces))
    assert len(first.emitted) == 3
    assert [f.tx_hash for f in again.emitted] == [tx(10)]
    assert journal.cursors("poll") == {LEADER: "1"}


def test_emitted_fills_follow_venue_time_within_a_batch() -> None:
    late = Piece(tx(11), LEADER, "SELL", UNITS, timestamp=200)
    early = Piece(tx(12), LEADER, "BUY", UNITS, timestamp=100)
    handed = core().merge(api_fills([late, early])).emitted
    assert [f.timestamp for f in handed] == [100, 200]


# --- the rule as a property --------------------------------------------------------------

SIZES = st.sampled_from([5 * UNITS, 5 * UNITS, 10 * UNITS, 12_500_000])


@st.composite
def transactions(draw: st.DrawFn) -> tuple[list[Piece], list[Piece], list[bool]]:
    """(API rows, chain events, which events are taking orders) of one transaction.

    Each wallet-side has maker orders (one row and one event per match) and at most one
    taking order (one event summing its matches; the API lists it summed or per match).
    """
    number = draw(st.integers(1, 10**6))
    api: list[Piece] = []
    chain: list[Piece] = []
    takers: list[bool] = []
    for who, side in draw(
        st.lists(
            st.sampled_from([(1, "BUY"), (1, "SELL"), (2, "BUY")]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    ):
        for _ in range(draw(st.integers(0, 3))):
            piece = Piece(tx(number), wallet(who), side, draw(SIZES))
            api.append(piece)
            chain.append(piece)
            takers.append(False)
        matches = draw(st.lists(SIZES, min_size=0, max_size=4))
        if matches:
            summed = Piece(tx(number), wallet(who), side, sum(matches))
            per_match = draw(st.booleans())
            api += (
                [Piece(tx(number), wallet(who), side, m) for m in matches]
                if per_match
                else [summed]
            )
            chain.append(summed)
            takers.append(True)
    return api, chain, takers


DELIVERIES = st.lists(
    st.sampled_from(["stream", "poll", "backfill", "chain", "restart"]), min_size=0, max_size=8
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    transactions(),
    DELIVERIES,
    st.sampled_from(["poll", "chain"]),
    st.randoms(use_true_random=False),
    st.sampled_from([2, 8, 1000]),
)
def test_every_share_is_handed_out_exactly_once_in_any_order_of_sightings(
    transaction: tuple[list[Piece], list[Piece], list[bool]],
    deliveries: list[str],
    complete_with: str,
    rng: object,
    capacity: int,
) -> None:
    api, chain, takers = transaction
    if not api:
        return
    journal = MemoryJournal()
    merger = core(journal, capacity)
    handed: list[LeaderFill] = []
    for delivery in [*deliveries, complete_with]:
        if delivery == "stream":  # frames, repeated, reordered, one by one or batched
            frames = [stream_fill(rng.choice(api)) for _ in range(rng.randint(1, 6))]  # type: ignore[attr-defined]
            if rng.random() < 0.5:  # type: ignore[attr-defined]
                handed += merger.merge(frames).emitted
            else:
                for frame in frames:
                    handed += merger.merge([frame]).emitted
        elif delivery in ("poll", "backfill"):
            source = FeedSource.POLL if delivery == "poll" else FeedSource.BACKFILL
            handed += merger.merge(api_fills(api, source)).emitted
        elif delivery == "chain":
            handed += merger.merge(chain_fills(chain, takers=takers)).emitted
        else:
            merger = core(journal, capacity)
    truth: Counter[tuple[str, str, str, str]] = Counter()
    for piece in api:
        truth[(piece.tx, piece.wallet, piece.token, piece.side)] += piece.shares
    assert totals(handed) == truth
    assert len({f.fill_id for f in handed}) == len(handed)


# --- on the store, both databases --------------------------------------------------------


async def test_the_live_merger_records_before_handing_out_and_saves_the_cursor_with_it(
    store: Store,
) -> None:
    matches = [Piece(tx(20), LEADER, "BUY", shares * UNITS) for shares in (60, 40)]
    summed = Piece(tx(20), LEADER, "BUY", 100 * UNITS)
    merger = FillMerger(StoreJournal(store), seen_capacity=4)
    await merger.submit([stream_fill(matches[0])])
    await merger.submit(chain_fills([summed], takers=[True]), cursor=Cursor("chain", "block", "9"))
    await merger.submit(
        api_fills(matches), cursor=Cursor("poll", LEADER, str(matches[0].timestamp))
    )
    handed = [merger.get_nowait() for _ in range(merger.pending())]
    assert [f.size.units for f in handed] == [60 * UNITS, 40 * UNITS]
    assert all(f.stamps.merged_ms > 0 and f.stamps.merged_ns > 0 for f in handed)
    with store.read() as tx_:
        recorded = tx_.fills.in_transactions([summed.tx])
        assert sum(fill.size.units for fill, _ in recorded) == 100 * UNITS
        assert tx_.cursors.load("chain", "block") == "9"
    restarted = FillMerger(StoreJournal(store), seen_capacity=4)
    for batch in (
        api_fills(matches),
        chain_fills([summed], takers=[True]),
        [stream_fill(matches[1])],
    ):
        assert (await restarted.submit(batch)).emitted == []
    assert await restarted.cursors("poll") == {LEADER: str(matches[0].timestamp)}


@pytest.mark.parametrize("capacity", [2, 1000])
async def test_the_store_and_memory_journals_decide_alike(store: Store, capacity: int) -> None:
    pieces = [Piece(tx(30 + n % 3), LEADER, "BUY", 5 * UNITS) for n in range(9)]
    batches = [api_fills(pieces), chain_fills(pieces), [stream_fill(pieces[0])], api_fills(pieces)]
    live = FillMerger(StoreJournal(store), seen_capacity=capacity)
    memory = core(capacity=capacity)
    for batch in batches:
        live_ids = [f.fill_id for f in (await live.submit(batch)).emitted]
        assert live_ids == [f.fill_id for f in memory.merge(batch).emitted]
    assert live.pending() == 9

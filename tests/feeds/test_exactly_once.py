"""Against the local exchange, with its faults on: every fill of every watched wallet is
handed out exactly once, in causal order per wallet, whichever feeds see it and when.

The truth is the exchange's own tape (every side of every fill it settled).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from polytail.domain.fills import FeedSource, LeaderFill
from polytail.sim.scenarios import load
from polytail.sim.server import RunningSim, start_sim
from polytail.store import Store

from .rig import Rig, condition_of, feed_settings, per_group, running, token_of, truth, until

LEADER = "0x" + "1e" * 20
SECOND = "0x" + "2e" * 20
MAKERS = ["0x" + f"{n}d" * 20 for n in (3, 4, 5)]


def assert_causal(fills: list[LeaderFill]) -> None:
    """Per wallet, nothing is handed out before a fill that happened earlier."""
    last: dict[str, int] = {}
    for fill in fills:
        assert fill.timestamp >= last.get(fill.wallet, 0), f"out of order: {fill}"
        last[fill.wallet] = fill.timestamp


async def several_makers_then_one_taker(rig: Rig, slug: str, taker: str, price: str) -> None:
    """Three watched makers rest asks inside the spread (at `price`); `taker` lifts them."""
    condition, token = condition_of(rig.sim, slug), token_of(rig.sim, slug)
    for maker in MAKERS:
        await rig.admin("fund", maker, pusd="10", shares={condition: "40"})
        placed = await rig.admin("order", maker, token, "SELL", shares="20", price=price)
        assert placed["status"] == "LIVE", placed
    done = await rig.admin("trade", taker, token, "BUY", shares="50", price=price)
    assert done["fills"] == 3, done


async def test_stream_poll_and_chain_hand_out_every_fill_once_under_faults(
    sim_quiet: RunningSim, db: Store
) -> None:
    sim = sim_quiet
    wallets = [LEADER, SECOND, *MAKERS]
    settings = feed_settings(chain=True)
    async with running(sim, db, wallets, settings) as rig:
        await rig.admin(
            "faults",
            set=[
                {"kind": "rtds_duplicate", "rate": 0.3},
                {"kind": "rtds_reorder", "rate": 0.3},
                {"kind": "status", "service": "data", "status": 429, "rate": 0.3, "count": 6},
                {"kind": "status", "service": "data", "status": 503, "rate": 0.2, "count": 4},
                {"kind": "status", "service": "rpc", "status": 502, "rate": 0.2, "count": 3},
                {"kind": "stale", "service": "data", "path": "/activity", "seconds": 30},
            ],
        )
        btc, fed_yes, fed_no = (
            token_of(sim, "btc-above-150k-dec-31"),
            token_of(sim, "fed-cuts-in-december"),
            token_of(sim, "fed-cuts-in-december", 1),
        )
        await rig.admin("trade", LEADER, btc, "BUY", shares="10", price="0.45")
        await rig.admin("advance", 1)
        await rig.admin("burst", LEADER, btc, "BUY", count=200, shares_each="5", price="0.45")
        await rig.admin("advance", 1)
        await rig.admin("trade", LEADER, btc, "SELL", shares="300", price="0.30")
        await rig.admin("trade", LEADER, fed_no, "BUY", shares="20", price="0.45")  # both sides
        await rig.admin("trade", LEADER, fed_yes, "SELL", shares="15", price="0.55")
        await rig.admin("advance", 1)
        await several_makers_then_one_taker(rig, "best-picture-glass-harbor", SECOND, "0.31")
        await rig.admin("advance", 1)
        await rig.admin("trade", "0x" + "99" * 20, btc, "BUY", shares="5", price="0.45")  # flush
        await rig.delivered()
        await rig.admin("faults", clear=True)
        await rig.settled()
    expected = truth(sim, wallets)
    assert rig.pieces() == expected  # the same pieces as the tape: nothing more, nothing less
    assert len({fill.fill_id for fill in rig.handed}) == len(rig.handed)
    assert sum(expected.values()) == len(rig.handed) >= 200 + 7
    assert_causal(rig.handed)
    with db.read() as tx:
        recorded = tx.fills.recent(limit=10_000)
    assert {f.fill_id for f in recorded} == {f.fill_id for f in rig.handed}


@pytest.fixture(scope="module")
def per_match_sim() -> Iterator[RunningSim]:
    """An exchange whose Data API and RTDS list a taker's order one row per match, while
    the chain sums it in the taking order's one OrderFilled."""
    scenario = load("synthetic", seed=12)
    scenario.background_interval = 0
    scenario.taker_rows = "per_match"
    with start_sim(scenario, settle_delays=(0.01, 0.02)) as running_sim:
        yield running_sim


@pytest.mark.parametrize("first", ["chain", "stream"])
async def test_a_taker_summed_on_chain_but_split_per_match_is_copied_once(
    per_match_sim: RunningSim, db: Store, first: str
) -> None:
    sim = per_match_sim
    taker = "0x" + ("7a" if first == "chain" else "7b") * 20
    settings = feed_settings(stream=first == "stream", poll=first == "stream", chain=True)
    async with running(sim, db, [taker], settings) as rig:
        await several_makers_then_one_taker(rig, "best-picture-other", taker, "0.22")
        await rig.delivered()
        if first == "chain":  # the API view arrives second: it must add nothing
            assert [f.source for f in rig.handed] == [FeedSource.CHAIN]
            rig.feeds.poll = None
        await rig.settled()
    if first == "chain":
        async with running(sim, db, [taker], feed_settings(chain=False)) as later:
            await later.settled()
            assert later.handed == []
    expected = truth(sim, [taker])
    assert len(expected) == 2  # 20 and 20 (two identical rows) and 10: three API rows
    assert per_group(rig.pieces()) == per_group(expected)
    assert sum(f.size.units for f in rig.handed) == 50_000_000


async def test_a_restart_in_the_middle_neither_replays_nor_skips(
    sim_quiet: RunningSim, db: Store
) -> None:
    sim = sim_quiet
    wallet = "0x" + "5e" * 20
    token = token_of(sim, "mayor-runoff-winner-a")
    settings = feed_settings(chain=True)
    async with running(sim, db, [wallet], settings) as first:
        await first.admin("trade", wallet, token, "BUY", shares="10", price="0.60")
        await first.admin("burst", wallet, token, "BUY", count=20, shares_each="5", price="0.60")
        await first.delivered()
    await first.admin("advance", 1)
    await first.admin("trade", wallet, token, "SELL", shares="30", price="0.40")  # while down
    async with running(sim, db, [wallet], settings) as second:
        await second.admin("advance", 1)
        await second.admin("trade", wallet, token, "BUY", shares="7", price="0.60")
        expected = per_group(truth(sim, [wallet]))
        await until(lambda: per_group(first.pieces() + second.pieces()) == expected)
        await second.settled()
    assert len(first.handed) == 21
    assert {f.side.value for f in second.handed} == {"SELL", "BUY"} and len(second.handed) == 2
    assert not {f.fill_id for f in first.handed} & {f.fill_id for f in second.handed}
    assert_causal(second.handed)


async def test_watch_list_changes_take_effect_without_a_restart(
    sim_quiet: RunningSim, db: Store
) -> None:
    sim = sim_quiet
    old, new = "0x" + "6a" * 20, "0x" + "6b" * 20
    token = token_of(sim, "best-picture-the-long-road")
    async with running(sim, db, [old], feed_settings()) as rig:
        await rig.admin("trade", new, token, "BUY", shares="10", price="0.55")  # unwatched
        await rig.admin("trade", old, token, "BUY", shares="10", price="0.55")
        await rig.delivered()
        assert {f.wallet for f in rig.handed} == {old}
        rig.watch.update([new])  # hot reload: the old leader out, the new one in
        await rig.admin("advance", 1)
        await rig.admin("trade", new, token, "BUY", shares="12", price="0.55")
        await rig.admin("trade", old, token, "BUY", shares="13", price="0.55")
        await until(lambda: sum(f.wallet == new for f in rig.handed) == 2)
        await rig.settled()
    # the new leader: its earlier fill (read back from the lookback) and the new one
    assert sorted(f.size.units for f in rig.handed if f.wallet == new) == [10_000_000, 12_000_000]
    assert [f.size.units for f in rig.handed if f.wallet == old] == [10_000_000]

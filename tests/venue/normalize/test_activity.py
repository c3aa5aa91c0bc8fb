"""Data API activity and trades rows become exact, identified leader fills."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polytail.domain.fills import FeedSource, Side
from polytail.domain.money import Shares, Usdc
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.activity import activity_batch
from polytail.venue.normalize.trades import trades_batch

KCH123 = "0x6a72f61820b26b1fe4d956e17b6dc2a1ea3033ee"
DUCKS = "31580298928034717121287201018973507946553544207612680382558768593005033869136"


def test_recorded_activity_rows_become_fills_with_exact_values(load_json: Any) -> None:
    rows = load_json("pscanner/activity.json")
    fills, rejects, ignored = activity_batch(rows)

    assert len(fills) == 10 and rejects == [] and not ignored
    first = fills[0]
    assert first.wallet == KCH123
    assert first.side is Side.BUY
    assert first.token_id == DUCKS
    assert first.outcome == "Ducks" and first.outcome_index == 1
    assert first.price == Decimal("0.860000001148")  # the float's exact shortest digits
    assert first.size == Shares(714_285_713)
    assert first.usdc == Usdc(614_285_714)  # usdcSize as reported, not size x price
    assert first.timestamp == 1777091978
    assert first.tx_hash == "0x9dd247e60766470f2bd031529ad78ad72c1bfd979a783c811077f437593d97bd"
    assert first.condition_id == (
        "0x0044717447f885ed54508627145cbf1ac113566c79af55428175f6d0c776949c"
    )
    assert first.event_slug == "nhl-edm-ana-2026-04-24"
    assert first.source is FeedSource.POLL
    assert first.stamps.venue_ms == 1777091978000


def test_recorded_trades_have_no_usdc_size_so_notional_is_shares_times_price(
    load_json: Any,
) -> None:
    fills, rejects, _ = trades_batch(load_json("polymarket-cli/trades.json"))

    assert rejects == []
    down = fills[0]
    assert down.size == Shares(3_288_880) and down.price == Decimal("0.9")
    assert down.usdc == Usdc(2_959_992)  # 3.28888 x 0.9 = 2.959992 exactly
    assert down.wallet == "0x9fb96c5cf2027d0ce8e0e92fc30b52e81f001866"


def test_a_whole_leader_history_normalises_without_loss_or_collision(load_json: Any) -> None:
    rows = load_json("Insider_Amy/trades.json")
    fills, rejects, ignored = trades_batch(rows)

    assert len(fills) == 3500 and rejects == [] and not ignored
    assert len({fill.fill_id for fill in fills}) == 3500
    assert sum(fill.side is Side.SELL for fill in fills) == 97
    assert fills[0].size == Shares(31_683_870_000) and fills[0].price == Decimal("0.54")


def test_checksummed_and_lowercase_addresses_give_the_same_fill(load_json: Any) -> None:
    row = load_json("pscanner/activity.json")[0]
    shouted = {**row, "proxyWallet": "0x6A72F61820B26B1FE4D956E17B6DC2A1EA3033EE"}

    (plain,), _, _ = activity_batch([row])
    (checksummed,), _, _ = activity_batch([shouted])

    assert plain.fill_id == checksummed.fill_id
    assert checksummed.wallet == KCH123


def test_numbers_as_strings_parse_like_numbers(load_json: Any) -> None:
    row = load_json("pscanner/activity.json")[0]
    texty = {**row, "size": "714.285713", "price": "0.860000001148", "usdcSize": "614.285714"}

    (a,), _, _ = activity_batch([row])
    (b,), _, _ = activity_batch([texty])

    assert (a.fill_id, a.size, a.price, a.usdc) == (b.fill_id, b.size, b.price, b.usdc)


def test_timestamps_in_milliseconds_are_detected(load_json: Any) -> None:
    row = {**load_json("pscanner/activity.json")[0], "timestamp": 1777091978123}
    (fill,), _, _ = activity_batch([row])
    assert fill.timestamp == 1777091978


def test_non_trade_rows_and_sentinels_never_become_fills(load_json: Any) -> None:
    trade = load_json("pscanner/activity.json")[0]
    redeem = {**trade, "type": "REDEEM", "outcomeIndex": 999, "asset": "", "side": ""}
    rebate = {**trade, "type": "MAKER_REBATE"}
    reward = {**trade, "type": "REWARD"}
    sentinel = {k: v for k, v in trade.items() if k != "type"} | {"outcomeIndex": 999}
    empty = {k: v for k, v in trade.items() if k != "type"} | {"asset": "", "side": ""}

    fills, rejects, ignored = activity_batch([redeem, rebate, trade, reward, sentinel, empty])

    assert [f.token_id for f in fills] == [DUCKS]
    assert rejects == []
    assert ignored == {
        "redeem": 1,
        "maker_rebate": 1,
        "reward": 1,
        "sentinel_999": 1,
        "no_asset_or_side": 1,
    }


def test_a_malformed_row_is_kept_with_its_field_and_the_batch_goes_on(load_json: Any) -> None:
    rows = copy.deepcopy(load_json("pscanner/activity.json"))
    rows[2]["price"] = "about half"
    rows[4]["proxyWallet"] = "0x123"
    del rows[6]["size"]

    fills, rejects, _ = activity_batch(rows)

    assert len(fills) == 7
    assert [(r.field, r.row is rows[i]) for r, i in zip(rejects, (2, 4, 6), strict=True)] == [
        ("price", True),
        ("proxyWallet", True),
        ("size", True),
    ]
    assert all(isinstance(r, MalformedRow) for r in rejects)
    assert "about half" in str(rejects[0])


def test_identical_rows_in_one_walk_get_occurrences_and_repeated_walks_dedupe(
    load_json: Any,
) -> None:
    row = load_json("pscanner/activity.json")[1]
    twice = [row, dict(row)]

    first_walk = activity_batch(twice).fills
    second_walk = activity_batch(twice).fills

    assert first_walk[0].fill_id != first_walk[1].fill_id  # two real fills
    assert [f.fill_id for f in first_walk] == [f.fill_id for f in second_walk]


def test_v2_snake_case_rows_match_the_v1_camel_case_fill(load_json: Any) -> None:
    # Constructed from the documented v2 field list (polymarket-api.md §4.2): no recorded
    # v2 payload exists. The values are those of the recorded v1 row.
    v1 = load_json("pscanner/activity.json")[0]
    v2 = {
        "type": "TRADE",
        "proxy_wallet": v1["proxyWallet"],
        "timestamp": v1["timestamp"],
        "transaction_hash": v1["transactionHash"],
        "condition_id": v1["conditionId"],
        "token_id": v1["asset"],
        "side": v1["side"],
        "size": v1["size"],
        "usdc_size": v1["usdcSize"],
        "price": v1["price"],
        "outcome": v1["outcome"],
        "outcome_index": v1["outcomeIndex"],
        "slug": v1["slug"],
        "event_slug": v1["eventSlug"],
        "is_combo": False,
    }

    (old,), _, _ = activity_batch([v1])
    (new,), _, _ = activity_batch([v2])

    assert new == old


def test_a_row_without_transaction_hash_uses_the_content_key(load_json: Any) -> None:
    row = {**load_json("pscanner/activity.json")[0], "transactionHash": ""}
    (fill,), _, _ = activity_batch([row])
    assert fill.tx_hash is None and fill.fill_id.startswith("n")


@given(picks=st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=30))
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_walk_has_unique_ids_and_repeating_it_gives_the_same_ids(
    picks: list[int], load_json: Any
) -> None:
    rows = load_json("pscanner/activity.json")
    walk = [rows[i] for i in picks]
    first = [fill.fill_id for fill in activity_batch(walk).fills]
    again = [fill.fill_id for fill in activity_batch(walk).fills]
    assert len(set(first)) == len(walk)  # identical rows are distinct fills in one walk
    assert first == again  # a repeated walk dedupes to exactly the same ids

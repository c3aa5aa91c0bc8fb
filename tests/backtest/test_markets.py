"""Market metadata for a replay: every recorded shape loads through the venue's
normalisers, bad input is named and the rest still loads, and the engine sees a market
open until its resolution time and resolved after it."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

from polytail.backtest.markets import (
    MarketCatalog,
    ReplayMarkets,
    corrected_end_dates,
    resolution_times,
)
from polytail.domain.ids import condition_id
from polytail.venue.normalize.gamma import market_from_gamma
from tests.backtest.support import T0, condition, gamma_market, write


def test_insider_amy_clob_markets_load_with_their_resolutions(shared_data: Path) -> None:
    catalog = MarketCatalog.load([shared_data / "Insider_Amy" / "markets.json"])
    assert len(catalog) == 59
    assert catalog.problems == []
    raw = json.loads((shared_data / "Insider_Amy" / "markets.json").read_text())
    for item in raw:
        market = catalog.get(condition_id(item["condition_id"]))
        assert market is not None and market.resolution is not None
        for index, token in enumerate(item["tokens"]):
            expected = Decimal(1) if token["winner"] else Decimal(0)
            assert market.resolution.payout_per_share(index) == expected
            assert catalog.for_token(market.outcomes[index].token_id) is market
        assert market.fees.is_free  # recorded taker_base_fee / maker_base_fee are 0


def test_gamma_market_event_and_vendor_lines_all_load(shared_data: Path, tmp_path: Path) -> None:
    lines = gzip.decompress(
        (
            shared_data / "polymarket-data-samples" / "BTC-5m-markets-2026-07-24.jsonl.gz"
        ).read_bytes()
    ).splitlines()[:3]
    vendor = tmp_path / "btc.jsonl"
    vendor.write_bytes(b"\n".join(lines))
    catalog = MarketCatalog.load(
        [shared_data / "pscanner" / "market.json", shared_data / "pscanner" / "event.json", vendor]
    )
    assert len(catalog) == 1 + 4 + 3
    btc = [m for m in catalog.by_condition.values() if m.slug.startswith("btc-updown-5m")]
    assert len(btc) == 3
    assert all(not m.fees.is_free for m in btc)  # Gamma feeSchedule is kept
    assert all(m.resolution is not None for m in btc)


def test_unreadable_files_and_objects_are_named_and_the_rest_still_loads(tmp_path: Path) -> None:
    good = write(tmp_path / "good.json", [gamma_market(1), {"hello": "world"}])
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    missing = tmp_path / "missing.json"
    clob = write(
        tmp_path / "clob.json",
        {
            "condition_id": condition(2),
            "minimum_tick_size": 0.01,
            "taker_base_fee": 200,
            "tokens": [
                {"token_id": "11", "outcome": "Yes", "winner": True},
                {"token_id": "12", "outcome": "No", "winner": False},
            ],
        },
    )
    catalog = MarketCatalog.load([good, broken, missing, clob])
    assert set(catalog.by_condition) == {condition(1), condition(2)}
    text = "\n".join(catalog.problems)
    assert "good.json[1]: not market metadata" in text
    assert "broken.json: line 1 is not JSON" in text
    assert "missing.json: cannot read" in text
    assert "taker_base_fee=200" in text and "fees are not modelled" in text


def test_a_market_is_open_until_its_resolution_time_and_resolved_after() -> None:
    catalog = MarketCatalog.of([market_from_gamma(gamma_market(1, winner=1, closed_at_s=T0 + 500))])
    times = resolution_times(
        catalog, {condition_id(condition(1)): (T0 + 100) * 1000}, (T0 + 900) * 1000
    )
    assert times[condition_id(condition(1))] == (T0 + 500) * 1000  # the metadata's own time
    now = [0]
    markets = ReplayMarkets(catalog, lambda: now[0], times)
    now[0] = (T0 + 499) * 1000
    before = markets.at(condition_id(condition(1)), now[0])
    assert before.resolution is None and not before.closed and before.accepting_orders
    after = markets.at(condition_id(condition(1)), (T0 + 500) * 1000)
    assert after.resolution is not None and after.resolution.winning_index == 1


def test_a_resolution_time_before_the_last_fill_is_not_trusted() -> None:
    catalog = MarketCatalog.of([market_from_gamma(gamma_market(1, closed_at_s=T0 + 50))])
    cid = condition_id(condition(1))
    times = resolution_times(catalog, {cid: (T0 + 100) * 1000}, (T0 + 900) * 1000)
    assert times[cid] == (T0 + 900) * 1000 + 1  # just after the end of the replay


def test_a_stale_end_date_before_the_last_fill_is_replaced_by_the_resolution_time() -> None:
    catalog = MarketCatalog.of([market_from_gamma(gamma_market(1, end_s=T0 + 10))])
    cid = condition_id(condition(1))
    last = {cid: (T0 + 100) * 1000}
    times = resolution_times(catalog, last, (T0 + 900) * 1000)
    corrected = corrected_end_dates(catalog, last, times, (T0 + 900) * 1000)
    assert corrected == {cid: T0 + 901}
    markets = ReplayMarkets(catalog, lambda: 0, times, corrected)
    assert markets.at(cid, (T0 + 100) * 1000).end_date == T0 + 901
    assert markets.at(cid, (T0 + 902) * 1000).end_date == T0 + 10  # as recorded once resolved

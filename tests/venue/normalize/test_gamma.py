"""Gamma market and event objects become complete `Market`s."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from polytail.domain.market import MarketVersion
from polytail.domain.money import Price, Shares
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.gamma import gamma_tick, market_from_gamma, markets_from_event


def test_recorded_market_parses_as_v1_with_json_string_fields(load_json: Any) -> None:
    market = market_from_gamma(load_json("pscanner/market.json"))

    assert market.version is MarketVersion.V1  # recorded payloads predate `version`
    assert market.condition_id == (
        "0x9c1a953fe92c8357f1b646ba25d983aa83e90c525992db14fb726fa895cb5763"
    )
    assert [o.label for o in market.outcomes] == ["Yes", "No"]
    assert market.outcomes[1].token_id == (
        "2527312495175492857904889758552137141356236738032676480522356889996545113869"
    )
    assert market.tick == Price.parse("0.01")
    assert market.min_size == Shares.parse("5")
    assert market.fees.is_free  # feesEnabled: false
    assert market.event_slug == "what-will-happen-before-gta-vi"
    assert market.end_date == 1785499200  # 2026-07-31T12:00:00Z
    assert market.resolution is None and not market.closed


def test_fee_schedule_is_read_when_fees_are_enabled(load_json: Any) -> None:
    market = market_from_gamma(load_json("polymarket-cli/market_detail.json"))

    assert market.fees.rate == Decimal("0.25")
    assert market.fees.exponent == Decimal(2)
    assert market.fees.taker_only is True
    assert market.fees.rebate_rate == Decimal("0.2")
    assert market.tick == Price.parse("0.001")
    # 100 shares at 0.5: 100 x 0.25 x (0.25)^2 = 1.5625 pUSD
    assert market.fees.taker_fee(Shares.parse("100"), Price.parse("0.5")).units == 1_562_500


def test_event_markets_carry_event_tags_and_resolutions(load_json: Any) -> None:
    markets, rejects = markets_from_event(load_json("pscanner/event.json"))

    assert rejects == [] and len(markets) == 4
    resolved = markets[0]
    assert resolved.slug == "microstrategy-sell-any-bitcoin-in-2025"
    assert resolved.closed and resolved.resolution is not None
    assert resolved.resolution.winning_index == 1  # outcomePrices ["0", "1"]: "No" won
    assert resolved.resolution.resolved_at == 1767586945  # closedTime 2026-01-05 04:22:25+00
    assert "Crypto" in resolved.tags and "MicroStrategy" in resolved.tags
    assert resolved.event_slug == "microstrategy-sell-any-bitcoin-in-2025"
    assert markets[1].resolution is None  # open market, prices 0.095 / 0.905


def test_missing_tick_is_reported_so_the_caller_asks_the_clob(load_json: Any) -> None:
    raw = dict(load_json("pscanner/market.json"))
    del raw["orderPriceMinTickSize"]

    assert gamma_tick(raw) is None
    with pytest.raises(MalformedRow) as caught:
        market_from_gamma(raw)
    assert caught.value.field == "orderPriceMinTickSize"
    assert market_from_gamma(raw, tick=Price.parse("0.001")).tick == Price.parse("0.001")


def test_version_chooses_position_ids_even_when_both_lists_are_present(
    load_json: Any,
) -> None:
    # Constructed from the documented v2 fields (polymarket-api.md §1.2, §3.2).
    raw = dict(load_json("pscanner/market.json"))
    position_ids = [
        "452312848583266388373324160190187140051835877600158453279131187530910662656",
        "452312848583266388373324160190187140051835877600158453279131187530910662657",
    ]
    raw.update(version="v2", positionIds=json.dumps(position_ids))

    market = market_from_gamma(raw)

    assert market.version is MarketVersion.V2
    assert list(market.token_ids) == position_ids


def test_position_ids_without_a_version_are_refused(load_json: Any) -> None:
    raw = dict(load_json("pscanner/market.json"))
    raw.update(positionIds='["1", "2"]')
    raw.pop("clobTokenIds")
    with pytest.raises(MalformedRow, match="cannot tell v1 from v2"):
        market_from_gamma(raw)


def test_every_recorded_btc_market_resolves_as_the_vendor_recorded(shared_data: Path) -> None:
    path = shared_data / "polymarket-data-samples" / "BTC-5m-markets-2026-07-24.jsonl.gz"
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()

    for line in lines:
        sample = json.loads(line)
        market = market_from_gamma(sample["raw"])
        assert market.resolution is not None
        assert market.resolution.winning_index == sample["outcome_prices"].index("1")
        assert list(market.token_ids) == sample["token_ids"]
        assert market.fees.rate == Decimal("0.07") and market.fees.exponent == 1
    assert len(lines) == 292

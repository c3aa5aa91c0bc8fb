"""CLOB market, book and price payloads become domain types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from polytail.domain.market import MarketVersion
from polytail.domain.money import Price, Shares
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.book import (
    book_from_clob,
    decimal_reply,
    last_trade,
    price_history,
    tick_reply,
)
from polytail.venue.normalize.clob_markets import (
    looks_like_position_id,
    market_from_clob,
    market_from_compact,
)
from polytail.venue.normalize.positions import parse_rows


def test_every_recorded_clob_market_carries_its_winner(load_json: Any) -> None:
    raw_markets = load_json("Insider_Amy/markets.json")
    resolution = load_json("Insider_Amy/market_resolution.json")

    markets, rejects = parse_rows(raw_markets, market_from_clob)

    assert rejects == [] and len(markets) == 59
    for market in markets:
        assert market.version is MarketVersion.V1
        winners = resolution[market.condition_id]
        assert market.resolution is not None
        winning = market.outcomes[market.resolution.winning_index or 0].token_id
        assert winners[winning] is True
    assert sum(m.neg_risk for m in markets) == 23
    luigi = markets[0]
    assert luigi.tick == Price.parse("0.001") and luigi.min_size == Shares.parse("5")
    assert luigi.outcomes[1].label == "No" and "Culture" in luigi.tags


def test_recorded_book_comes_back_best_first(load_json: Any) -> None:
    raw = load_json("polymarket-cli/book.json")
    book = book_from_clob(raw)

    # /book lists asks descending with the best LAST; the domain book is best FIRST.
    assert raw["asks"][-1]["price"] == "0.001"
    assert book.best_ask == Price.parse("0.001")
    assert book.asks[0].size == Shares.parse("385409.39")
    assert book.asks[-1].price == Price.parse("0.999")
    assert book.bids == () and book.best_bid is None
    assert len(book.asks) == 104
    assert book.tick == Price.parse("0.001") and book.timestamp_ms == 1774166201606


def test_bids_listed_ascending_become_best_first() -> None:
    raw = {
        "asset_id": "123",
        "bids": [{"price": "0.47", "size": "10"}, {"price": "0.48", "size": "30"}],
        "asks": [{"price": "0.52", "size": "5"}, {"price": "0.50", "size": "7"}],
    }
    book = book_from_clob(raw)
    assert book.best_bid == Price.parse("0.48") and book.best_ask == Price.parse("0.5")
    assert book.spread == Price.parse("0.02")


def test_recorded_prices_parse_exactly(load_json: Any) -> None:
    history = price_history(load_json("polymarket-cli/price_history.json"))
    assert [(p.timestamp, p.price) for p in history][:2] == [
        (1774165200, Decimal("0.42")),
        (1774165500, Decimal("0.5")),
    ]
    assert decimal_reply(load_json("polymarket-cli/midpoint.json"), ("mid",), "m") == Decimal(
        "0.0005"
    )
    trade = last_trade(load_json("polymarket-cli/last_trade_price.json"))
    assert trade.price == Decimal("0.001") and trade.side == "BUY"
    assert tick_reply({"minimum_tick_size": 0.01}) == Price.parse("0.01")


def test_an_unknown_tick_size_is_refused() -> None:
    with pytest.raises(MalformedRow, match="tick"):
        tick_reply({"minimum_tick_size": "0.02"})


def test_compact_clob_market_gives_fees_and_version_from_ids() -> None:
    # Constructed from the documented /clob-markets fields (polymarket-api.md §3.1).
    position = str((1 << 248) | (0xAB << 8))  # module 1, outcome 0: bits 40-103 zero
    raw = {
        "t": [{"t": position, "o": "Yes"}, {"t": str(int(position) + 1), "o": "No"}],
        "mts": "0.01",
        "mos": 5,
        "nr": False,
        "fd": {"r": 0.07, "e": 1, "to": True},
        "itode": True,
    }
    market = market_from_compact(raw, "0x" + "ab" * 32)

    assert looks_like_position_id(position)
    assert market.version is MarketVersion.V2
    assert market.fees.rate == Decimal("0.07") and market.taker_delay
    assert [o.label for o in market.outcomes] == ["Yes", "No"]

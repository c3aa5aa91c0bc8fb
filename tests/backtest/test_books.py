"""Recorded books: the snapshot a copy sees is the latest one at or before the moment it
reaches the market, and only while it is fresh; outcomes are matched by label."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from polytail.backtest.books import RecordedBooks
from polytail.domain.market import Market
from polytail.domain.money import Price, Shares
from polytail.venue.normalize.gamma import market_from_gamma

RESOLVEDKIT = "resolvedkit/books.parquet"


def btc_market(condition: str) -> Market:
    return market_from_gamma(
        {
            "conditionId": condition,
            "outcomes": json.dumps(["Up", "Down"]),
            "clobTokenIds": json.dumps(["901", "902"]),
            "orderPriceMinTickSize": 0.01,
        }
    )


def test_the_latest_fresh_snapshot_of_the_outcome_is_served(shared_data: Path) -> None:
    table = pq.read_table(shared_data / RESOLVEDKIT).to_pylist()
    condition = table[0]["market_id"]
    downs = sorted(
        (row for row in table if row["market_id"] == condition and row["side"] == "DOWN"),
        key=lambda row: row["ts"],
    )
    first, second = downs[0], downs[1]
    books = RecordedBooks.load([shared_data / RESOLVEDKIT])
    assert len(books) == len(table) and books.problems == []
    market = btc_market(condition)
    between = (first["ts"] + second["ts"]) // 2 if second["ts"] > first["ts"] + 1 else first["ts"]
    book = books.at(market.outcomes[1].token_id, market, between, max_age_ms=60_000)
    assert book is not None
    assert book.best_bid == Price.parse(str(first["bid_px"][0]))
    assert book.best_ask == Price.parse(str(first["ask_px"][0]))
    assert book.asks[0].size == Shares.parse(str(first["ask_sz"][0]))
    assert books.at(market.outcomes[1].token_id, market, first["ts"] - 1, 60_000) is None
    stale = books.at(market.outcomes[1].token_id, market, downs[-1]["ts"] + 60_001, 60_000)
    assert stale is None


def test_clob_book_replies_are_keyed_by_token(shared_data: Path, tmp_path: Path) -> None:
    reply = json.loads((shared_data / "polymarket-cli" / "book.json").read_text())
    path = tmp_path / "books.jsonl"
    path.write_text(json.dumps(reply) + "\n" + json.dumps({"nope": 1}) + "\n")
    books = RecordedBooks.load([path])
    at = int(reply["timestamp"])
    book = books.at(reply["asset_id"], None, at + 10, max_age_ms=60_000)
    assert book is not None and book.bids == () and len(book.asks) == len(reply["asks"])
    assert books.problems == [f"{path.name}[1]: not a CLOB /book object"]


def test_an_unreadable_book_file_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    books = RecordedBooks.load([bad])
    assert len(books) == 0 and "not a book parquet" in books.problems[0]

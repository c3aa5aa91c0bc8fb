"""The live book cache applies snapshots and deltas and falls back to REST."""

from __future__ import annotations

from typing import Any

from polytail.domain.ids import TokenId
from polytail.domain.money import Price, Shares
from polytail.venue.books import BookCache
from polytail.venue.clob import ClobPublic
from polytail.venue.http import HttpCore
from tests.venue.loopback import Stub

TOKEN = "94242206871221370391055736153305071391564432448684801902267396130896523340261"


def snapshot() -> dict[str, Any]:
    return {
        "event_type": "book",
        "asset_id": TOKEN,
        "market": "0x" + "ba" * 32,
        "bids": [{"price": "0.47", "size": "10"}, {"price": "0.48", "size": "30"}],
        "asks": [{"price": "0.52", "size": "25"}, {"price": "0.50", "size": "5"}],
        "timestamp": "1774166201606",
    }


def test_a_snapshot_then_deltas_give_a_best_first_book() -> None:
    cache = BookCache()
    assert cache.apply(snapshot()) == [TOKEN]
    cache.apply(
        {
            "event_type": "price_change",
            "market": "0x" + "ba" * 32,
            "price_changes": [
                {"asset_id": TOKEN, "price": "0.49", "size": "7", "side": "BUY"},
                {"asset_id": TOKEN, "price": "0.50", "size": "0", "side": "SELL"},
            ],
        }
    )
    book = cache.peek(TokenId(TOKEN))
    assert book is not None
    assert [lvl.price for lvl in book.bids] == [Price.parse(p) for p in ("0.49", "0.48", "0.47")]
    assert book.best_ask == Price.parse("0.52")  # the 0.50 level was removed
    assert book.asks[0].size == Shares.parse("25")


def test_malformed_events_are_kept_and_change_nothing() -> None:
    cache = BookCache()
    cache.apply(snapshot())
    before = cache.peek(TokenId(TOKEN))
    bad = {"event_type": "price_change", "price_changes": [{"asset_id": TOKEN, "price": "x"}]}
    assert cache.apply(bad) == []
    assert cache.peek(TokenId(TOKEN)) is before
    assert cache.rejects[0].field == "price"


async def test_a_missing_or_stale_book_is_fetched_from_rest(
    stub: tuple[Stub, str], core: HttpCore, load_json: Any
) -> None:
    venue, _ = stub
    venue.on("GET", "/book", load_json("polymarket-cli/book.json"))
    now = [0.0]
    cache = BookCache(ClobPublic(core), max_age_s=5, clock=lambda: now[0])

    book = await cache.book(TokenId(TOKEN))
    again = await cache.book(TokenId(TOKEN))
    now[0] = 6.0
    await cache.book(TokenId(TOKEN))

    assert book.best_ask == Price.parse("0.001") and again.best_ask == book.best_ask
    assert len(venue.requests("/book")) == 2  # fresh: cached; stale: fetched again
    assert venue.requests("/book")[0].params == {"token_id": [TOKEN]}

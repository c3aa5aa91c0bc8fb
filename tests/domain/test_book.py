"""Book walks: what an order would get right now, on a real recorded book."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polytail.domain.book import BookError, Level, OrderBook
from polytail.domain.ids import TokenId
from polytail.domain.money import Price, Shares, Usdc


def real_book(load_json: Any) -> OrderBook:
    raw = load_json("polymarket-cli/book.json")
    # The venue lists asks descending (best LAST); the domain wants best first.
    asks = tuple(
        Level(Price.parse(level["price"]), Shares.parse(level["size"]))
        for level in reversed(raw["asks"])
    )
    return OrderBook(TokenId(raw["asset_id"]), bids=(), asks=asks)


def test_real_book_touch_and_depth(load_json: Any) -> None:
    book = real_book(load_json)
    raw = load_json("polymarket-cli/book.json")
    assert book.best_ask == Price.parse(raw["asks"][-1]["price"])
    assert book.best_bid is None and book.spread is None and book.mid is None
    assert len(book.asks) == len(raw["asks"]) == 104


def test_buy_walk_on_the_real_book_matches_a_hand_computation(load_json: Any) -> None:
    book = real_book(load_json)
    want = Shares.parse("2500")
    walk = book.buy_shares(want)
    # By hand: take asks from the cheapest up until 2500 shares are filled.
    remaining, cost = Decimal(2500), Decimal(0)
    for level in reversed(load_json("polymarket-cli/book.json")["asks"]):
        take = min(remaining, Decimal(level["size"]))
        cost += take * Decimal(level["price"])
        remaining -= take
        last_price = level["price"]
        if remaining == 0:
            break
    assert walk.complete and walk.shares == want
    assert abs(Decimal(walk.notional.units) / 10**6 - cost) <= Decimal("0.000001") * walk.levels
    assert walk.worst_price == Price.parse(last_price)


def test_limit_stops_the_walk(load_json: Any) -> None:
    book = real_book(load_json)
    limit = book.asks[2].price
    first_three = book.asks[0].size + book.asks[1].size + book.asks[2].size
    walk = book.buy_shares(first_three + Shares.parse("1"), limit)
    assert not walk.complete
    assert walk.levels == 3
    assert walk.shares == book.asks[0].size + book.asks[1].size + book.asks[2].size


def test_buy_with_amount_never_overspends(load_json: Any) -> None:
    book = real_book(load_json)
    walk = book.buy_with(Usdc.parse("1234.56"))
    assert walk.notional <= Usdc.parse("1234.56")
    assert walk.complete


def test_books_must_be_sorted_best_first() -> None:
    with pytest.raises(BookError, match="asks are not sorted"):
        OrderBook(
            TokenId("1"),
            bids=(),
            asks=(Level(Price.parse("0.6"), Shares(1)), Level(Price.parse("0.5"), Shares(1))),
        )
    with pytest.raises(BookError, match="non-positive"):
        OrderBook(TokenId("1"), bids=(Level(Price.parse("0.5"), Shares(0)),), asks=())


levels = st.lists(
    st.tuples(st.integers(min_value=1, max_value=999), st.integers(min_value=1, max_value=10**9)),
    min_size=1,
    max_size=30,
    unique_by=lambda item: item[0],
)


@given(levels, st.integers(min_value=0, max_value=10**10))
def test_walks_never_exceed_the_book_or_the_request(raw: list[tuple[int, int]], want: int) -> None:
    asks = tuple(Level(Price(cents * 1000), Shares(size)) for cents, size in sorted(raw))
    bids = tuple(reversed(asks))
    book = OrderBook(TokenId("1"), bids=(), asks=asks)
    walk = book.buy_shares(Shares(want))
    available = sum(level.size.units for level in asks)
    assert walk.shares.units == min(want, available)
    assert walk.complete == (want <= available)
    sell_book = OrderBook(TokenId("1"), bids=bids, asks=())
    sell = sell_book.sell_shares(Shares(want))
    assert sell.shares == walk.shares
    # A seller walking the same levels from the top never receives more than a buyer pays.
    assert sell.notional.units >= 0


@given(levels, st.integers(min_value=0, max_value=10**9))
def test_spending_walk_stays_within_budget(raw: list[tuple[int, int]], budget: int) -> None:
    asks = tuple(Level(Price(cents * 1000), Shares(size)) for cents, size in sorted(raw))
    walk = OrderBook(TokenId("1"), bids=(), asks=asks).buy_with(Usdc(budget))
    assert walk.notional.units <= budget

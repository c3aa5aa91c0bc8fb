"""Paper fills on real recorded books match a book walk done by hand, level by level."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from polytail.domain.book import Level, OrderBook
from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, ConditionId, TokenId, client_order_id
from polytail.domain.market import FeeSchedule, Market, MarketVersion, Outcome
from polytail.domain.money import Price, Shares, Usdc, cost_of
from polytail.domain.orders import OrderIntent, OrderState, OrderType
from polytail.execution.paper import PaperBroker
from polytail.venue.errors import InsufficientBalance, NotFilled
from polytail.venue.normalize.book import book_from_clob
from tests.execution.support import Harness

ACCOUNT = AccountId("default")
RATE = Decimal("0.072")  # a crypto market's taker fee rate


class Static:
    def __init__(self, book: OrderBook) -> None:
        self.current = book

    async def book(self, token: TokenId) -> OrderBook:
        return self.current


def market_for(book: OrderBook, tick: str) -> Market:
    other = TokenId(str(int(book.token_id) + 1))
    return Market(
        condition_id=ConditionId("0x" + "cd" * 32),
        version=MarketVersion.V1,
        outcomes=(Outcome(0, "Up", book.token_id), Outcome(1, "Down", other)),
        tick=Price.parse(tick),
        fees=FeeSchedule(rate=RATE),
    )


def parquet_book(shared_data: Path, row: int = 0) -> OrderBook:
    record = pq.read_table(shared_data / "resolvedkit/books.parquet").slice(row, 1).to_pylist()[0]

    def levels(prices: list[float], sizes: list[float]) -> tuple[Level, ...]:
        # Floats from the recording are converted exactly once, here.
        return tuple(
            Level(Price.parse(Decimal(repr(p))), Shares.parse(Decimal(repr(s))))
            for p, s in zip(prices, sizes, strict=True)
        )

    return OrderBook(
        token_id=TokenId("1" + str(int(record["market_id"], 16))[:40]),
        bids=levels(record["bid_px"], record["bid_sz"]),
        asks=levels(record["ask_px"], record["ask_sz"]),
    )


def by_hand(
    levels: list[tuple[str, str]], wanted: str, limit: str, buying: bool
) -> tuple[Decimal, Decimal, Decimal]:
    """(shares, notional, fee) of taking `wanted` shares from `levels` (best first)."""
    left, shares, notional, fee = Decimal(wanted), Decimal(0), Decimal(0), Decimal(0)
    micro = Decimal("0.000001")
    for price_text, size_text in levels:
        price, size = Decimal(price_text), Decimal(size_text)
        if left <= 0 or (price > Decimal(limit) if buying else price < Decimal(limit)):
            break
        take = min(size, left)
        amount = take * price
        notional += amount.quantize(micro, ROUND_CEILING if buying else ROUND_FLOOR)
        fee += (take * RATE * price * (1 - price)).quantize(micro, ROUND_CEILING)
        shares += take
        left -= take
    return shares, notional, fee


def intent(book: OrderBook, side: Side, kind: OrderType, size: str, limit: str) -> OrderIntent:
    shares, price = Shares.parse(size), Price.parse(limit)
    key = f"paper:{side}:{kind}:{size}:{limit}"
    return OrderIntent(
        client_id=client_order_id(ACCOUNT, key),
        account=ACCOUNT,
        intent_key=key,
        token_id=book.token_id,
        condition_id=ConditionId("0x" + "cd" * 32),
        side=side,
        order_type=kind,
        limit_price=price,
        size=shares,
        max_spend=cost_of(shares, price) if side is Side.BUY else Usdc(0),
        created_at_ms=0,
    )


async def fill(broker: PaperBroker, order: OrderIntent, market: Market) -> Any:
    return await broker.submit(await broker.prepare(order, market), market)


def paper(book: OrderBook, harness: Harness) -> PaperBroker:
    return PaperBroker(Static(book), harness, latency_ms=0, now_ms=lambda: 1)


def cash(amount: str) -> Harness:
    harness = Harness()
    harness.deposit(Usdc.parse(amount))
    return harness


def totals(report: Any) -> tuple[Decimal, Decimal, Decimal]:
    return (
        sum((t.shares.to_decimal() for t in report.trades), Decimal(0)),
        sum((t.notional.to_decimal() for t in report.trades), Decimal(0)),
        sum((t.fee.to_decimal() for t in report.trades), Decimal(0)),
    )


def text_levels(levels: tuple[Level, ...]) -> list[tuple[str, str]]:
    return [(str(level.price), str(level.size)) for level in levels]


async def test_fok_buy_on_a_recorded_resolvedkit_book_matches_the_hand_walk(
    shared_data: Path,
) -> None:
    book = parquet_book(shared_data)
    market = market_for(book, "0.01")
    # 1,200 shares up to 0.53: the whole 0.51 and 0.52 levels and part of 0.53.
    report = await fill(
        paper(book, cash("5000")), intent(book, Side.BUY, OrderType.FOK, "1200", "0.53"), market
    )
    assert report.state is OrderState.MATCHED
    assert totals(report) == by_hand(text_levels(book.asks), "1200", "0.53", buying=True)
    assert totals(report)[0] == Decimal(1200)


async def test_fak_sell_on_a_recorded_book_takes_the_bids_down_to_the_limit(
    shared_data: Path,
) -> None:
    book = parquet_book(shared_data)
    market = market_for(book, "0.01")
    harness = cash("5000")
    bought = await fill(
        paper(book, harness), intent(book, Side.BUY, OrderType.FOK, "800", "0.52"), market
    )
    for trade in bought.trades:
        harness.book(trade, market)
    report = await fill(
        paper(book, harness), intent(book, Side.SELL, OrderType.FAK, "700", "0.48"), market
    )
    expected = by_hand(text_levels(book.bids), "700", "0.48", buying=False)
    assert totals(report) == expected
    assert expected[0] < 700  # only 512.25 shares are bid at 0.48 or better
    assert report.state is OrderState.CANCELED


async def test_fok_that_the_recorded_book_cannot_fill_is_rejected(shared_data: Path) -> None:
    book = parquet_book(shared_data)
    with pytest.raises(NotFilled):
        await fill(
            paper(book, cash("5000")),
            intent(book, Side.BUY, OrderType.FOK, "1000", "0.51"),
            market_for(book, "0.01"),
        )


async def test_polymarket_cli_book_walk_with_a_thousandth_tick(
    load_json: Callable[[str], Any],
) -> None:
    book = book_from_clob(load_json("polymarket-cli/book.json"))
    market = market_for(book, "0.001")
    best = book.asks[0]
    size = str((best.size + Shares.parse("100")).to_decimal())
    limit = str(book.asks[1].price)
    report = await fill(
        paper(book, cash("1000000")), intent(book, Side.BUY, OrderType.FAK, size, limit), market
    )
    assert totals(report) == by_hand(text_levels(book.asks), size, limit, buying=True)


async def test_paper_cash_bounds_what_a_copy_may_spend(shared_data: Path) -> None:
    book = parquet_book(shared_data)
    with pytest.raises(InsufficientBalance):
        await fill(
            paper(book, cash("100")),
            intent(book, Side.BUY, OrderType.FOK, "500", "0.51"),
            market_for(book, "0.01"),
        )


async def test_resting_paper_order_fills_as_maker_when_a_later_book_crosses(
    shared_data: Path,
) -> None:
    book = parquet_book(shared_data)
    market = market_for(book, "0.01")
    broker = paper(book, cash("1000"))
    report = await fill(broker, intent(book, Side.BUY, OrderType.GTC, "100", "0.45"), market)
    assert report.state is OrderState.LIVE
    crossed = OrderBook(
        book.token_id, bids=(), asks=(Level(Price.parse("0.44"), Shares.parse("60")),)
    )
    fills = broker.on_book(crossed)
    assert [(f.shares, f.notional, f.fee) for f in fills] == [
        (Shares.parse("60"), Usdc.parse("27"), Usdc(0))
    ]
    later = await broker.lookup(report.venue_order_id, market)
    assert later is not None and later.state is OrderState.PARTIAL
    assert await broker.cancel(report.venue_order_id)

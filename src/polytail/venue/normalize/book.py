"""CLOB books and prices → domain: `/book`, market-channel `book`, prices and history.

`/book` lists bids ascending and asks descending, best LAST (polymarket-api.md §3.1);
`OrderBook` wants best FIRST. Levels are sorted here by price rather than reversed, so a
feed that one day sends them in another order still yields a correct book.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from polytail.domain.book import BookError, Level, OrderBook
from polytail.domain.money import Price
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.common import (
    Row,
    decimal_of,
    field_of,
    reported_price,
    shares_of,
    side_of,
    tick_price,
    timestamp_s,
    token_of,
)
from polytail.venue.normalize.gamma import checked_tick

ORIGIN: Final = "clob book"


def levels(raw: Any, key: str, row: Row, *, descending: bool) -> tuple[Level, ...]:
    """Book levels best-first; zero-size levels (removals) are dropped."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MalformedRow(ORIGIN, key, "is not a list", row)
    parsed: dict[int, Level] = {}
    for index, level in enumerate(raw):
        if not isinstance(level, dict):
            raise MalformedRow(ORIGIN, f"{key}[{index}]", "is not an object", row)
        price = tick_price(level.get("price"), f"{key}[{index}].price", ORIGIN, row)
        size = shares_of(level.get("size"), f"{key}[{index}].size", ORIGIN, row)
        if size.units > 0:
            parsed[price.micros] = Level(price, size)  # a repeated price: the last wins
    return tuple(parsed[micros] for micros in sorted(parsed, reverse=descending))


def book_from_clob(raw: Row) -> OrderBook:
    """`GET /book` or a market-channel `book` event → a best-first `OrderBook`."""
    if not isinstance(raw, dict):
        raise MalformedRow(ORIGIN, "book", "is not an object", raw)
    token = token_of(field_of(raw, "asset_id", ORIGIN), "asset_id", ORIGIN, raw)
    stamp = raw.get("timestamp")
    tick = raw.get("tick_size")
    min_size = raw.get("min_order_size")
    try:
        return OrderBook(
            token_id=token,
            bids=levels(raw.get("bids"), "bids", raw, descending=True),
            asks=levels(raw.get("asks"), "asks", raw, descending=False),
            timestamp_ms=int(decimal_of(stamp, "timestamp", ORIGIN, raw)) if stamp else 0,
            tick=checked_tick(tick, "tick_size", ORIGIN, raw) if tick else None,
            min_size=shares_of(min_size, "min_order_size", ORIGIN, raw) if min_size else None,
        )
    except BookError as error:
        raise MalformedRow(ORIGIN, "bids/asks", str(error), raw) from None


def decimal_reply(raw: Any, keys: tuple[str, ...], origin: str) -> Decimal:
    """`{"mid": "0.55"}`, `{"price": "0.55"}` ... → Decimal, accepting alternative keys."""
    if not isinstance(raw, dict):
        raise MalformedRow(origin, keys[0], "reply is not an object", raw)
    for key in keys:
        if raw.get(key) not in (None, ""):
            return reported_price(raw[key], key, origin, raw)
    raise MalformedRow(origin, keys[0], "is missing", raw)


def tick_reply(raw: Any) -> Price:
    """`GET /tick-size` → `{"minimum_tick_size": "0.01"}` (a number on some versions)."""
    if not isinstance(raw, dict):
        raise MalformedRow("clob tick-size", "minimum_tick_size", "reply is not an object", raw)
    return checked_tick(
        field_of(raw, "minimum_tick_size", "clob tick-size"),
        "minimum_tick_size",
        "clob tick-size",
        raw,
    )


@dataclass(frozen=True, slots=True)
class PricePoint:
    timestamp: int  # Unix seconds
    price: Decimal


def price_history(raw: Any) -> list[PricePoint]:
    """`GET /prices-history` → points oldest first."""
    origin = "clob prices-history"
    history = field_of(raw, "history", origin) if isinstance(raw, dict) else None
    if not isinstance(history, list):
        raise MalformedRow(origin, "history", "is not a list", raw)
    points = [
        PricePoint(
            timestamp_s(point.get("t"), "history.t", origin, raw),
            reported_price(point.get("p"), "history.p", origin, raw),
        )
        for point in history
        if isinstance(point, dict)
    ]
    return sorted(points, key=lambda point: point.timestamp)


@dataclass(frozen=True, slots=True)
class LastTrade:
    price: Decimal
    side: str


def last_trade(raw: Any) -> LastTrade:
    origin = "clob last-trade-price"
    price = decimal_reply(raw, ("price",), origin)
    side = raw.get("side") if isinstance(raw, dict) else None
    return LastTrade(price, side_of(side, "side", origin, raw).value if side else "")

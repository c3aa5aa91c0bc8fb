"""Public CLOB reads: books, prices, history, tick size, neg-risk, markets.

No authentication. Each call has its endpoint family (rate limits, breaker) and returns
domain types: `/book` comes back best-first, prices as exact Decimals.
"""

from __future__ import annotations

from decimal import Decimal

from polytail.domain.book import OrderBook
from polytail.domain.fills import Side
from polytail.domain.ids import ConditionId, TokenId
from polytail.domain.market import Market
from polytail.domain.money import Price
from polytail.venue.errors import MalformedRow
from polytail.venue.http import HttpCore
from polytail.venue.normalize.book import (
    LastTrade,
    PricePoint,
    book_from_clob,
    decimal_reply,
    last_trade,
    price_history,
    tick_reply,
)
from polytail.venue.normalize.clob_markets import market_from_clob, market_from_compact


class ClobPublic:
    def __init__(self, http: HttpCore) -> None:
        self.http = http

    async def server_time(self) -> int:
        """The CLOB's clock, Unix seconds (`GET /time` answers a bare integer)."""
        raw = await self.http.get_json("/time", family="clob")
        if isinstance(raw, dict):
            raw = raw.get("time", raw.get("timestamp"))
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise MalformedRow("clob /time", "time", "is not an integer", raw)
        try:
            return int(raw)
        except ValueError:
            raise MalformedRow("clob /time", "time", "is not an integer", raw) from None

    async def version(self) -> int:
        """The order version the CLOB expects (`GET /version`: `{"version": 2}`)."""
        raw = await self.http.get_json("/version", family="clob")
        value = raw.get("version") if isinstance(raw, dict) else raw
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise MalformedRow("clob /version", "version", "is not an integer", raw)
        return int(value)

    async def book(self, token: TokenId) -> OrderBook:
        raw = await self.http.get_json("/book", family="clob.book", params={"token_id": token})
        return book_from_clob(raw)

    async def price(self, token: TokenId, side: Side) -> Decimal:
        """What a `side` order would trade at now (BUY: the best ask; SELL: the best bid).

        UNCERTAIN (polymarket-api.md §3.1): the direction is documented loosely; confirm
        against `/book` before relying on it for anything that moves money.
        """
        raw = await self.http.get_json(
            "/price", family="clob.price", params={"token_id": token, "side": side.value}
        )
        return decimal_reply(raw, ("price",), "clob price")

    async def midpoint(self, token: TokenId) -> Decimal:
        raw = await self.http.get_json(
            "/midpoint", family="clob.midpoint", params={"token_id": token}
        )
        return decimal_reply(raw, ("mid", "mid_price"), "clob midpoint")

    async def last_trade_price(self, token: TokenId) -> LastTrade:
        raw = await self.http.get_json(
            "/last-trade-price", family="clob.price", params={"token_id": token}
        )
        return last_trade(raw)

    async def prices_history(
        self,
        token: TokenId,
        *,
        start: int | None = None,
        end: int | None = None,
        interval: str | None = None,
        fidelity_min: int | None = None,
    ) -> list[PricePoint]:
        """Either `interval` (max, all, 1m, 1w, 1d, 6h, 1h) or both `start` and `end`."""
        if interval is None and (start is None or end is None):
            raise ValueError("prices_history needs an interval, or both start and end")
        raw = await self.http.get_json(
            "/prices-history",
            family="clob.prices_history",
            params={
                "market": token,
                "startTs": start,
                "endTs": end,
                "interval": interval,
                "fidelity": fidelity_min,
            },
        )
        return price_history(raw)

    async def tick_size(self, token: TokenId) -> Price:
        raw = await self.http.get_json(
            "/tick-size", family="clob.tick_size", params={"token_id": token}
        )
        return tick_reply(raw)

    async def neg_risk(self, token: TokenId) -> bool:
        raw = await self.http.get_json("/neg-risk", family="clob", params={"token_id": token})
        value = raw.get("neg_risk") if isinstance(raw, dict) else None
        if not isinstance(value, bool):
            raise MalformedRow("clob neg-risk", "neg_risk", "is not a boolean", raw)
        return value

    async def market(self, condition: ConditionId) -> Market:
        """`/markets/{condition_id}`: outcomes with labels and, once resolved, winners."""
        raw = await self.http.get_json(f"/markets/{condition}", family="clob")
        return market_from_clob(raw)

    async def market_info(self, condition: ConditionId) -> Market:
        """`/clob-markets/{condition_id}`: tick, minimum, neg-risk, fee curve, taker delay."""
        raw = await self.http.get_json(f"/clob-markets/{condition}", family="clob")
        return market_from_compact(raw, condition)

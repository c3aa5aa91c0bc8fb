"""Gamma (market metadata): markets by condition id, token id and slug; events.

Outcome ids are chosen by the market's `version`, JSON-string fields decoded, and a
missing `orderPriceMinTickSize` is fetched from the CLOB (`/tick-size` of the first
outcome), so every `Market` returned here is complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from polytail.domain.ids import ConditionId, TokenId
from polytail.domain.market import Market
from polytail.venue.clob import ClobPublic
from polytail.venue.errors import MalformedRow, NotFound, UnexpectedResponse
from polytail.venue.http import HttpCore
from polytail.venue.normalize.gamma import gamma_outcome_ids, gamma_tick, market_from_gamma

MAX_IDS_PER_REQUEST: Final = 100


class GammaClient:
    def __init__(self, http: HttpCore, clob: ClobPublic | None = None) -> None:
        self.http = http
        self.clob = clob

    async def _complete(self, raw: Any, event: Any = None) -> Market:
        """Build the market, asking the CLOB for the tick when Gamma left it out."""
        if isinstance(raw, dict) and gamma_tick(raw) is None and self.clob is not None:
            _, ids = gamma_outcome_ids(raw)
            tick = await self.clob.tick_size(ids[0])
            return market_from_gamma(raw, tick=tick, event=event)
        return market_from_gamma(raw, event=event)

    async def raw_markets(self, **params: Any) -> list[Any]:
        raw = await self.http.get_json("/markets", family="gamma.markets", params=params)
        if not isinstance(raw, list):
            raise UnexpectedResponse("gamma /markets did not answer a list", family="gamma")
        return raw

    async def markets_by_condition(
        self, conditions: Sequence[ConditionId]
    ) -> tuple[list[Market], list[MalformedRow]]:
        """Markets for up to any number of condition ids (100 per request)."""
        markets: list[Market] = []
        rejects: list[MalformedRow] = []
        for start in range(0, len(conditions), MAX_IDS_PER_REQUEST):
            chunk = list(conditions[start : start + MAX_IDS_PER_REQUEST])
            for raw in await self.raw_markets(condition_ids=chunk, limit=len(chunk)):
                try:
                    markets.append(await self._complete(raw))
                except MalformedRow as error:
                    rejects.append(error)
        return markets, rejects

    async def market(self, condition: ConditionId) -> Market:
        """One market by condition id; `NotFound` when Gamma does not know it."""
        raws = await self.raw_markets(condition_ids=[condition], limit=1)
        for raw in raws:
            if isinstance(raw, dict) and str(raw.get("conditionId", "")).lower() == condition:
                return await self._complete(raw)
        raise NotFound(f"gamma knows no market with condition id {condition}", family="gamma")

    async def market_by_token(self, token: TokenId) -> Market:
        """The market holding an outcome id.

        UNCERTAIN: Gamma filters by `clob_token_ids`; whether that filter also matches
        Protocol V2 position ids is not documented.
        """
        for raw in await self.raw_markets(clob_token_ids=[token], limit=1):
            market = await self._complete(raw)
            if market.has_token(token):
                return market
        raise NotFound(f"gamma knows no market with outcome id {token}", family="gamma")

    async def market_by_slug(self, slug: str) -> Market:
        raw = await self.http.get_json(f"/markets/slug/{slug}", family="gamma.markets")
        return await self._complete(raw)

    async def event_by_slug(self, slug: str) -> tuple[Any, list[Market], list[MalformedRow]]:
        """The raw event and its nested markets (bad ones returned as rejects)."""
        event = await self.http.get_json(f"/events/slug/{slug}", family="gamma.events")
        nested = event.get("markets") if isinstance(event, dict) else None
        if not isinstance(nested, list):
            raise UnexpectedResponse(f"gamma event {slug} has no markets list", family="gamma")
        markets: list[Market] = []
        rejects: list[MalformedRow] = []
        for raw in nested:
            try:
                markets.append(await self._complete(raw, event=event))
            except MalformedRow as error:
                rejects.append(error)
        return event, markets, rejects

    async def events(self, **params: Any) -> list[Any]:
        """Raw `/events` listing (filters: active, closed, tag_id, limit, offset ...)."""
        raw = await self.http.get_json("/events", family="gamma.events", params=params)
        if not isinstance(raw, list):
            raise UnexpectedResponse("gamma /events did not answer a list", family="gamma")
        return raw

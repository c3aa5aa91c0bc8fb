"""Gamma: market and event metadata, with the venue's JSON-string fields."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polytail.sim.exchange import Exchange
from polytail.sim.http import ApiError, query, query_bool, query_int, query_list, reply
from polytail.sim.markets import Event, Market, gamma_event, gamma_market

PREFIX = "/gamma"


def render_market(exchange: Exchange, market: Market, *, nested: bool = False) -> dict[str, Any]:
    first = market.token_ids[0]
    book = exchange.engine.books[first]
    return gamma_market(
        market,
        best_bid=book.best_bid(),
        best_ask=book.best_ask(),
        last_price=book.last_trade[0] if book.last_trade else None,
        volume=exchange.volume.get(market.condition_id, 0),
        nested=nested,
    )


def render_event(exchange: Exchange, event: Event) -> dict[str, Any]:
    return gamma_event(event, [render_market(exchange, m, nested=True) for m in event.markets])


def routes(exchange: Exchange) -> list[Route]:
    def matching(request: Request) -> list[Market]:
        found = list(exchange.markets.values())
        slugs = set(query_list(request, "slug"))
        conditions = {c.lower() for c in query_list(request, "condition_ids")}
        tokens = set(query_list(request, "clob_token_ids"))
        ids = set(query_list(request, "id"))
        closed = query(request, "closed")
        found = [
            m
            for m in found
            if (not slugs or m.slug in slugs)
            and (not conditions or m.condition_id.lower() in conditions)
            and (not tokens or tokens & set(m.token_ids))
            and (not ids or m.gamma_id in ids)
            and (closed is None or m.closed == (closed.lower() == "true"))
        ]
        return found

    async def markets(request: Request) -> Response:
        found = matching(request)
        limit = query_int(request, "limit", default=100, high=1000)
        offset = query_int(request, "offset", default=0)
        return reply([render_market(exchange, m) for m in found[offset : offset + limit]])

    async def markets_keyset(request: Request) -> Response:
        """`{"markets": [...], "next_cursor": ...}`; the cursor is the next offset, opaque to
        clients (the SDK's `list_markets` and its redemption lookup use this listing)."""
        found = matching(request)
        limit = query_int(request, "limit", default=20, high=100)
        cursor = query(request, "after_cursor") or "0"
        if not cursor.isdigit():
            raise ApiError(400, "invalid after_cursor")
        offset = int(cursor)
        page = found[offset : offset + limit]
        more = offset + limit < len(found)
        return reply(
            {
                "markets": [render_market(exchange, m) for m in page],
                "next_cursor": str(offset + limit) if more else None,
            }
        )

    async def market_by_id(request: Request) -> Response:
        wanted = request.path_params["id"]
        for market in exchange.markets.values():
            if market.gamma_id == wanted:
                return reply(render_market(exchange, market))
        raise ApiError(404, "market not found")

    async def market_by_slug(request: Request) -> Response:
        wanted = request.path_params["slug"]
        for market in exchange.markets.values():
            if market.slug == wanted:
                return reply(render_market(exchange, market))
        raise ApiError(404, "market not found")

    async def events(request: Request) -> Response:
        slugs = set(query_list(request, "slug"))
        ids = set(query_list(request, "id"))
        found = [
            e
            for e in exchange.events.values()
            if (not slugs or e.slug in slugs) and (not ids or e.id in ids)
        ]
        limit = query_int(request, "limit", default=100, high=1000)
        offset = query_int(request, "offset", default=0)
        include = query_bool(request, "include_markets", default=True)
        rendered = [render_event(exchange, e) for e in found[offset : offset + limit]]
        if not include:
            for event in rendered:
                event.pop("markets", None)
        return reply(rendered)

    async def event_by_id(request: Request) -> Response:
        event = exchange.events.get(request.path_params["id"])
        if event is None:
            raise ApiError(404, "event not found")
        return reply(render_event(exchange, event))

    async def event_by_slug(request: Request) -> Response:
        for event in exchange.events.values():
            if event.slug == request.path_params["slug"]:
                return reply(render_event(exchange, event))
        raise ApiError(404, "event not found")

    return [
        Route("/markets", markets),
        Route("/markets/keyset", markets_keyset),
        Route("/markets/slug/{slug}", market_by_slug),
        Route("/markets/{id}", market_by_id),
        Route("/events", events),
        Route("/events/slug/{slug}", event_by_slug),
        Route("/events/{id}", event_by_id),
    ]

"""Fixtures for the venue tests: loopback servers and clients wired to them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from polytail.venue.http import HttpCore, shared_client
from polytail.venue.limits import RateLimiter
from polytail.venue.resilience import Breakers
from polytail.venue.stats import VenueStats
from tests.venue.loopback import Stub, http_server, stub_app


@pytest.fixture
async def stub() -> AsyncIterator[tuple[Stub, str]]:
    venue = Stub()
    async with http_server(stub_app(venue)) as url:
        yield venue, url


@pytest.fixture
async def core(stub: tuple[Stub, str]) -> AsyncIterator[HttpCore]:
    _, url = stub
    stats = VenueStats()
    client = shared_client()
    yield HttpCore(
        client,
        url,
        RateLimiter(stats=stats),
        Breakers(stats=stats),
        timeout_s=2.0,
        stats=stats,
    )
    await client.aclose()

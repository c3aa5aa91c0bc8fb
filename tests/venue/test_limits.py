"""The rate budget holds under a burst from many concurrent callers."""

from __future__ import annotations

import asyncio
from bisect import bisect_right

import pytest

from polytail.venue.http import HttpCore, shared_client
from polytail.venue.limits import PUBLISHED, Limit, RateLimiter
from polytail.venue.resilience import Breakers
from tests.venue.loopback import Stub, http_server, stub_app

WINDOW = 1.0


def max_in_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    return max(bisect_right(ordered, t + window - 1e-9) - i for i, t in enumerate(ordered))


async def test_200_concurrent_callers_stay_within_the_sliding_window_budget() -> None:
    # A scaled copy of the published shape: 150 per 1 s window, 90 % share.
    table = [Limit("all", 10_000, WINDOW, None), Limit("data.trades", 150, WINDOW, "all")]
    limiter = RateLimiter(table, share=0.9)
    budget, _ = limiter.budget("data.trades")
    admitted: list[float] = []
    acquire = limiter.acquire

    async def recording_acquire(family: str) -> None:
        await acquire(family)
        admitted.append(asyncio.get_running_loop().time())

    limiter.acquire = recording_acquire  # type: ignore[method-assign]
    stub = Stub()
    stub.on("GET", "/trades", [])
    async with http_server(stub_app(stub)) as url:
        client = shared_client()
        core = HttpCore(client, url, limiter, Breakers(), timeout_s=5)
        start = asyncio.get_running_loop().time()
        await asyncio.gather(*(core.get_json("/trades", family="data.trades") for _ in range(200)))
        elapsed = asyncio.get_running_loop().time() - start
        await client.aclose()

    arrivals = [seen.at for seen in stub.requests("/trades")]
    assert len(arrivals) == 200
    assert budget == pytest.approx(135)
    # The limiter admits exactly its budget per sliding window ...
    assert max_in_window(admitted, WINDOW) <= 135
    # ... so the server, despite scheduling jitter, never sees more than the limit ...
    assert max_in_window(arrivals, WINDOW) <= 150
    # ... and the limiter does not starve callers. (How close throughput comes to the
    # budget is a benchmark figure, not a test: a loaded CI machine must not fail this.)
    ideal = (200 - budget) / budget * WINDOW
    assert elapsed <= 4 * ideal + 2 * WINDOW


async def test_a_family_spends_from_its_parents_too() -> None:
    table = [Limit("all", 10, 0.5, None), Limit("a", 1000, 0.5, "all")]
    limiter = RateLimiter(table, share=1.0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.gather(*(limiter.acquire("a") for _ in range(15)))
    # 15 requests through a parent allowing 10 per 0.5 s cannot finish at once.
    assert loop.time() - start >= 0.5


async def test_a_pause_holds_every_caller_of_the_family() -> None:
    limiter = RateLimiter()
    loop = asyncio.get_running_loop()
    limiter.pause("gamma.markets", 0.2)
    start = loop.time()
    await asyncio.gather(limiter.acquire("gamma.markets"), limiter.acquire("gamma.markets"))
    assert loop.time() - start >= 0.19
    assert limiter.stats.family("gamma.markets").rate_limit_waits == 2


def test_every_published_family_has_a_chain_to_all_and_a_positive_budget() -> None:
    limiter = RateLimiter(PUBLISHED, share=0.9)
    for limit in PUBLISHED:
        requests, window = limiter.budget(limit.family)
        assert requests == pytest.approx(limit.requests * 0.9)
        assert window == limit.window_s


async def test_an_undeclared_family_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="no rate limit declared"):
        await RateLimiter().acquire("gamma.nope")

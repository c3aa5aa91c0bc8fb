"""The HTTP core: typed errors, Retry-After, 425 backoff, breakers, timeouts, policies."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest

from polytail.venue.errors import (
    BadRequest,
    CircuitOpen,
    EngineRestarting,
    NotFound,
    RateLimited,
    ServerError,
    TransportFailure,
    UnexpectedResponse,
    VenueTimeout,
)
from polytail.venue.http import HttpCore, parse_retry_after, shared_client
from polytail.venue.limits import RateLimiter
from polytail.venue.resilience import Breakers, RetryPolicy
from tests.venue.loopback import Reply, Stub

FAST = RetryPolicy(attempts=4, base_s=0.01, max_s=0.02, restart_base_s=0.05, restart_max_s=0.1)
ONCE = RetryPolicy(attempts=1)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("7") == 7
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 29 <= (parse_retry_after(date, now=now) or 0) <= 31
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


async def test_429_pauses_for_retry_after_then_succeeds(
    stub: tuple[Stub, str], core: HttpCore
) -> None:
    venue, _ = stub
    venue.on(
        "GET", "/book", Reply({"error": "Too Many Requests"}, 429, {"Retry-After": "1"}), {"ok": 1}
    )

    assert await core.get_json("/book", family="clob.book", retry=FAST) == {"ok": 1}

    first, second = venue.requests("/book")
    assert second.at - first.at >= 0.95  # the venue's Retry-After was honoured
    counters = core.stats.family("clob.book")
    assert (counters.throttled, counters.retries) == (1, 1)


async def test_425_engine_restart_is_retried_with_backoff(
    stub: tuple[Stub, str], core: HttpCore
) -> None:
    venue, _ = stub
    restart = Reply({"error": "Too Early"}, 425)
    venue.on("GET", "/price", restart, restart, {"price": "0.5"})

    assert await core.get_json("/price", family="clob.price", retry=FAST) == {"price": "0.5"}
    times = [s.at for s in venue.requests("/price")]
    assert len(times) == 3 and times[1] - times[0] >= 0.025  # backoff from restart_base_s
    assert core.stats.family("clob.price").restarts == 2


async def test_retries_run_out_with_the_typed_error(stub: tuple[Stub, str], core: HttpCore) -> None:
    venue, _ = stub
    venue.on("GET", "/midpoint", Reply({"error": "boom"}, 502))
    with pytest.raises(ServerError, match="boom"):
        await core.get_json("/midpoint", family="clob.midpoint", retry=FAST)
    assert len(venue.requests("/midpoint")) == 4


async def test_client_errors_are_answers_not_retried(
    stub: tuple[Stub, str], core: HttpCore
) -> None:
    venue, _ = stub
    venue.on("GET", "/bad", Reply({"error": "invalid token id"}, 400))
    with pytest.raises(BadRequest, match="invalid token id"):
        await core.get_json("/bad", family="clob", retry=FAST)
    with pytest.raises(NotFound):
        await core.get_json("/missing", family="clob", retry=FAST)
    assert len(venue.requests("/bad")) == 1


async def test_non_json_replies_are_unexpected_responses(
    stub: tuple[Stub, str], core: HttpCore
) -> None:
    venue, _ = stub
    venue.on("GET", "/html", Reply(raw=b"<html>maintenance</html>"))
    with pytest.raises(UnexpectedResponse, match="maintenance"):
        await core.get_json("/html", family="clob", retry=FAST)


async def test_a_slow_reply_times_out(stub: tuple[Stub, str], core: HttpCore) -> None:
    venue, _ = stub
    venue.on("GET", "/slow", Reply({"late": True}, delay_s=0.4))
    core.timeout_s = 0.1
    started = time.monotonic()
    with pytest.raises(VenueTimeout, match=r"within 0\.1 s"):
        await core.get_json("/slow", family="clob", retry=ONCE)
    assert time.monotonic() - started < 0.5


async def test_an_order_post_is_never_retried_after_a_timeout(
    stub: tuple[Stub, str], core: HttpCore
) -> None:
    venue, _ = stub
    venue.on("POST", "/order", Reply({"success": True}, delay_s=0.3))
    core.timeout_s = 0.1
    order_policy = RetryPolicy(idempotent=False, attempts=5, base_s=0.01)
    with pytest.raises(VenueTimeout):
        await core.post_json("/order", {"o": 1}, family="clob.order", retry=order_policy)
    assert len(venue.requests("/order")) == 1  # the order may be live: no second send


async def test_an_order_post_is_retried_after_429_because_nothing_was_taken(
    stub: tuple[Stub, str], core: HttpCore
) -> None:
    venue, _ = stub
    venue.on("POST", "/order", Reply({}, 429, {"Retry-After": "0"}), {"success": True})
    order_policy = RetryPolicy(idempotent=False, attempts=3, base_s=0.01)
    assert await core.post_json("/order", {}, family="clob.order", retry=order_policy) == {
        "success": True
    }


async def test_refused_connections_are_transport_failures_that_never_sent() -> None:
    client = shared_client()
    core = HttpCore(client, "http://127.0.0.1:9", RateLimiter(), Breakers(), timeout_s=2)
    with pytest.raises(TransportFailure) as caught:
        await core.get_json("/book", family="clob.book", retry=ONCE)
    assert caught.value.maybe_sent is False
    await client.aclose()


async def test_the_breaker_opens_fails_fast_then_half_opens_and_closes(
    stub: tuple[Stub, str],
) -> None:
    venue, url = stub
    venue.on("GET", "/markets", *[Reply({"error": "down"}, 503)] * 3, [{"conditionId": "0x"}])
    client = shared_client()
    breakers = Breakers(threshold=3, ttl_s=0.2)
    core = HttpCore(client, url, RateLimiter(), breakers, timeout_s=2)

    for _ in range(3):
        with pytest.raises(ServerError):
            await core.get_json("/markets", family="gamma.markets", retry=ONCE)
    assert breakers.state("gamma.markets") == "opened"

    with pytest.raises(CircuitOpen, match="fail fast"):
        await core.get_json("/markets", family="gamma.markets", retry=ONCE)
    assert len(venue.requests("/markets")) == 3  # the open breaker sent nothing

    await asyncio.sleep(0.25)  # ttl passes: the next call probes (half-open) and succeeds
    assert await core.get_json("/markets", family="gamma.markets", retry=ONCE)
    assert breakers.state("gamma.markets") == "closed"
    await client.aclose()


async def test_answers_like_404_do_not_open_the_breaker(stub: tuple[Stub, str]) -> None:
    _, url = stub
    client = shared_client()
    breakers = Breakers(threshold=2, ttl_s=10)
    core = HttpCore(client, url, RateLimiter(), breakers, timeout_s=2)
    for _ in range(4):
        with pytest.raises(NotFound):
            await core.get_json("/nothing", family="gamma", retry=ONCE)
    assert breakers.state("gamma") == "closed"
    await client.aclose()


async def test_rate_limit_errors_carry_retry_after(stub: tuple[Stub, str], core: HttpCore) -> None:
    venue, _ = stub
    venue.on("GET", "/x", Reply({}, 429, {"Retry-After": "3"}))
    with pytest.raises(RateLimited) as caught:
        await core.get_json("/x", family="clob.book", retry=ONCE)
    assert caught.value.retry_after == 3
    venue.on("GET", "/y", Reply({"error": "Too Early"}, 425))
    with pytest.raises(EngineRestarting, match="restarting"):
        await core.get_json("/y", family="clob.price", retry=ONCE)

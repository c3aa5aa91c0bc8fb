"""The shared async HTTP core every REST client of the venue goes through.

One `httpx.AsyncClient` (HTTP/2, pooled) serves all base URLs. Every call names its
endpoint family, and on each attempt: waits for the family's rate budget, passes the
family's circuit breaker, runs under a hard timeout, and turns the reply into JSON or a
typed `VenueError`. The retry policy around the attempts is chosen by the caller
(`resilience.READ` for reads), so an order POST can never be retried by accident.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import orjson

from polytail.venue.errors import (
    BadRequest,
    EngineRestarting,
    NotFound,
    RateLimited,
    ServerError,
    TradingDisabled,
    TransportFailure,
    Unauthorized,
    UnexpectedResponse,
    VenueError,
    VenueTimeout,
)
from polytail.venue.limits import RateLimiter
from polytail.venue.resilience import READ, Breakers, RetryPolicy, call_with_retries
from polytail.venue.stats import VenueStats

Params = Mapping[str, str | int | float | bool | Sequence[str] | None]

DEFAULT_RATE_LIMIT_PAUSE_S: Final = 1.0
"""Pause after a 429 that carries no Retry-After."""


def shared_client(*, max_connections: int = 100, keepalive: int = 20) -> httpx.AsyncClient:
    """The process-wide client: HTTP/2 where the server offers it, pooled connections."""
    return httpx.AsyncClient(
        http2=True,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=keepalive),
        timeout=httpx.Timeout(120.0),  # a backstop; each call has its own hard deadline
        headers={"User-Agent": "polytail"},
    )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        current = time.time() if now is None else now
        return max(0.0, math.ceil(moment.timestamp() - current))
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _error_text(response: httpx.Response) -> str:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.text[:300]
    if isinstance(body, dict):
        for key in ("error", "errorMsg", "message", "detail"):
            if body.get(key):
                return str(body[key])
    return response.text[:300]


def error_for_status(response: httpx.Response, family: str) -> VenueError:
    """The typed error of a non-2xx reply."""
    status = response.status_code
    text = _error_text(response)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    where = f"{family}: HTTP {status} from {response.request.method} {response.url.path}"
    kwargs: dict[str, Any] = {"family": family, "status": status, "detail": text}
    if status == 429:
        return RateLimited(
            f"{where}: rate limited; pausing the family "
            f"{retry_after if retry_after is not None else DEFAULT_RATE_LIMIT_PAUSE_S:g} s",
            retry_after=retry_after,
            **kwargs,
        )
    if status == 425:
        return EngineRestarting(
            f"{where}: the matching engine is restarting (about 90 s); retrying with backoff",
            retry_after=retry_after,
            **kwargs,
        )
    if status == 503 and ("cancel-only" in text or "disabled" in text.lower()):
        return TradingDisabled(f"{where}: {text}", retry_after=retry_after, **kwargs)
    if status >= 500:
        return ServerError(f"{where}: {text}", retry_after=retry_after, **kwargs)
    if status == 404:
        return NotFound(f"{where}: not found ({text})", **kwargs)
    if status == 401:
        return Unauthorized(
            f"{where}: unauthorized ({text}); check the CLOB API credentials", **kwargs
        )
    return BadRequest(f"{where}: {text}", **kwargs)


@dataclass(slots=True)
class HttpCore:
    """Calls to one base URL. Cheap to create; share the client, limiter and breakers."""

    client: httpx.AsyncClient
    base_url: str
    limiter: RateLimiter
    breakers: Breakers
    timeout_s: float = 10.0
    stats: VenueStats = field(default_factory=VenueStats)

    async def get_json(
        self,
        path: str,
        *,
        family: str,
        params: Params | None = None,
        retry: RetryPolicy = READ,
    ) -> Any:
        return await self.request_json("GET", path, family=family, params=params, retry=retry)

    async def post_json(
        self, path: str, body: Any, *, family: str, retry: RetryPolicy = READ
    ) -> Any:
        return await self.request_json("POST", path, family=family, body=body, retry=retry)

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        family: str,
        params: Params | None = None,
        body: Any = None,
        retry: RetryPolicy = READ,
    ) -> Any:
        counters = self.stats.family(family)

        def on_retry(error: BaseException) -> None:
            counters.retries += 1

        async def attempt() -> Any:
            return await self._attempt(method, path, family, params, body)

        return await call_with_retries(attempt, retry, on_retry=on_retry)

    async def _attempt(
        self, method: str, path: str, family: str, params: Params | None, body: Any
    ) -> Any:
        await self.limiter.acquire(family)
        counters = self.stats.family(family)
        counters.requests += 1
        url = self.base_url + path
        content = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            async with self.breakers.guard(family):
                try:
                    async with asyncio.timeout(self.timeout_s):
                        response = await self.client.request(
                            method,
                            url,
                            params=_clean(params),
                            content=content,
                            headers=headers,
                        )
                except (TimeoutError, httpx.TimeoutException) as error:
                    raise VenueTimeout(
                        f"{family}: no reply from {method} {url} within {self.timeout_s:g} s",
                        family=family,
                    ) from error
                except httpx.ConnectError as error:
                    raise TransportFailure(
                        f"{family}: cannot connect to {self.base_url} ({error})",
                        family=family,
                        maybe_sent=False,
                    ) from error
                except httpx.HTTPError as error:
                    raise TransportFailure(
                        f"{family}: {method} {url} failed: {error!r}", family=family
                    ) from error
                if response.status_code >= 400:
                    failure = error_for_status(response, family)
                    self._note(failure)
                    raise failure
        except VenueError:
            counters.failures += 1
            raise
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            raise UnexpectedResponse(
                f"{family}: {method} {url} answered non-JSON: {response.text[:200]!r}",
                family=family,
                status=response.status_code,
            ) from error

    def _note(self, failure: VenueError) -> None:
        counters = self.stats.family(failure.family)
        if isinstance(failure, RateLimited):
            counters.throttled += 1
            pause = failure.retry_after
            self.limiter.pause(
                failure.family, DEFAULT_RATE_LIMIT_PAUSE_S if pause is None else pause
            )
        elif isinstance(failure, EngineRestarting):
            counters.restarts += 1


def _clean(params: Params | None) -> dict[str, Any] | None:
    if not params:
        return None
    cleaned: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            cleaned[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            cleaned[key] = value
        else:
            cleaned[key] = list(value)
    return cleaned

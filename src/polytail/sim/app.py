"""One ASGI application for every service, each under its own path prefix.

The official SDK joins its request paths onto the base URL it is given (httpx keeps a base
URL's path), so `http://host:port/clob` works as a CLOB host; `base_urls` lists them all.
Faults (latency, error statuses, stale pages) are applied here, before any route runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from polytail.sim import (
    routes_admin,
    routes_chain,
    routes_clob,
    routes_data,
    routes_gamma,
    routes_relayer,
    streams,
)
from polytail.sim.exchange import Exchange
from polytail.sim.http import ApiError, error_reply, reply

SERVICES = {
    "clob": "/clob",
    "gamma": "/gamma",
    "data": "/data",
    "relayer": "/relayer",
    "rpc": "/rpc",
    "geoblock": "/geoblock",
    "admin": "/admin",
}
WEBSOCKETS = {"clob_market_ws": "/ws/market", "clob_user_ws": "/ws/user", "rtds_ws": "/rtds"}


def base_urls(host: str, port: int) -> dict[str, str]:
    """Service name -> base URL, the one place clients learn where each service lives."""
    urls = {name: f"http://{host}:{port}{prefix}" for name, prefix in SERVICES.items()}
    urls.update({name: f"ws://{host}:{port}{path}" for name, path in WEBSOCKETS.items()})
    return urls


class FaultMiddleware:
    """Applies the run's faults to HTTP requests and keeps the stale-page cache."""

    def __init__(self, app: ASGIApp, exchange: Exchange) -> None:
        self.app = app
        self.exchange = exchange
        self.cache: dict[str, tuple[float, int, bytes]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # A `status` fault on service "ws" refuses the handshake (HTTP 403): a dropped
            # channel then stays down until the fault is cleared.
            service, sub_path = _service_of(scope["path"])
            if service == "ws" and self.exchange.faults.http(service, sub_path).status:
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1013})
                return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        service, sub_path = _service_of(path)
        if service in ("", "admin"):
            await self.app(scope, receive, send)
            return
        fault = self.exchange.faults.http(service, sub_path)
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.status is not None:
            headers = {"Retry-After": str(int(fault.retry_after) or 1)}
            body: dict[str, object] = {"error": _status_text(fault.status)}
            if fault.status in (429, 503):
                body.update(
                    code="RATE_LIMITED" if fault.status == 429 else "UNAVAILABLE",
                    retryable=True,
                    retry_after_seconds=fault.retry_after,
                )
            await reply(body, fault.status, headers)(scope, receive, send)
            return
        max_age = self.exchange.faults.stale_for(service, sub_path)
        key = path + "?" + scope.get("query_string", b"").decode()
        cached = self.cache.get(key)
        if max_age and cached and time.monotonic() - cached[0] <= max_age:
            await Response(cached[2], cached[1], media_type="application/json")(
                scope, receive, send
            )
            return
        if service != "data" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        await self._capture(key, scope, receive, send)

    async def _capture(self, key: str, scope: Scope, receive: Receive, send: Send) -> None:
        status = 200
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and status == 200:
                    self.cache[key] = (time.monotonic(), status, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, capture)  # type: ignore[arg-type]


def _service_of(path: str) -> tuple[str, str]:
    for name, prefix in SERVICES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return name, path[len(prefix) :] or "/"
    if path.startswith("/ws/") or path == "/rtds":
        return "ws", path
    return "", path


def _status_text(status: int) -> str:
    return {
        425: "Too Early: the matching engine is restarting",
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
    }.get(status, f"HTTP {status}")


def create_app(exchange: Exchange, admin_token: str) -> ASGIApp:
    async def handle_api_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError)
        return error_reply(error)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        exchange.attach(loop)
        ticker = asyncio.create_task(_tick(exchange))
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            exchange.hub.drop()

    async def index(_: Request) -> Response:
        return reply({"service": "polytail sim", "paths": {**SERVICES, **WEBSOCKETS}})

    app = Starlette(
        routes=[
            Route("/", index),
            Mount("/clob", routes=routes_clob.routes(exchange)),
            Mount("/gamma", routes=routes_gamma.routes(exchange)),
            Mount("/data", routes=routes_data.routes(exchange)),
            Mount("/relayer", routes=routes_relayer.routes(exchange)),
            *routes_chain.rpc_routes(exchange),
            *routes_chain.geoblock_routes(exchange),
            Mount("/admin", routes=routes_admin.routes(exchange, admin_token)),
            *streams.routes(exchange),
        ],
        exception_handlers={ApiError: handle_api_error},
        lifespan=lifespan,
    )
    return FaultMiddleware(app, exchange)


async def _tick(exchange: Exchange) -> None:
    """Run scheduled actions as their time comes (real-time clocks only) and expire orders."""
    while True:
        try:
            if exchange.clock.realtime:
                exchange.run_due()
            _heartbeat_cancels(exchange)
        except Exception:
            import logging  # noqa: PLC0415

            logging.getLogger("polytail.sim").exception("scheduled action failed")
        due = exchange.next_due()
        wait = 0.05
        if exchange.clock.realtime and due is not None:
            wait = min(0.25, max(0.0, (due - exchange.clock.now()) / exchange.clock.speed))
        await asyncio.sleep(wait if wait > 0 else 0.005)


def _heartbeat_cancels(exchange: Exchange) -> None:
    """The dead-man switch: keys that started heartbeats and stopped lose their orders."""
    now = time.monotonic()
    for key, last in list(exchange.heartbeats.items()):
        if now - last > exchange.heartbeat_timeout:
            del exchange.heartbeats[key]
            exchange.cancel_where(key)

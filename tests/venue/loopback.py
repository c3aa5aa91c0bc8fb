"""Loopback stand-ins for Polymarket: a scriptable HTTP server and websocket servers.

Tests run the real clients against real servers bound to 127.0.0.1 on free ports; only
Polymarket itself is replaced. `Stub` answers each (method, path) with a scripted reply
(a JSON value, a sequence of replies consumed in order, or a handler) and records every
request with its arrival time, so tests can assert what the venue would have seen.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.server import ServerConnection, serve


@dataclass(frozen=True)
class Reply:
    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    raw: bytes | None = None


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    params: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]
    at: float


Handler = Callable[[Request], Awaitable[Reply]]


class Stub:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Any] = {}
        self.seen: list[Seen] = []

    def on(self, method: str, path: str, *replies: Any) -> None:
        """Answer with `replies` in order (the last one repeats); a callable is a handler."""
        items = [r if isinstance(r, Reply) or callable(r) else Reply(r) for r in replies]
        self.routes[(method, path)] = deque(items)

    def requests(self, path: str | None = None) -> list[Seen]:
        return [s for s in self.seen if path is None or s.path == path]

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        params: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            params.setdefault(key, []).append(value)
        self.seen.append(
            Seen(
                request.method,
                request.url.path,
                params,
                body,
                dict(request.headers),
                time.monotonic(),
            )
        )
        queue = self.routes.get((request.method, request.url.path))
        if not queue:
            return Response(
                orjson.dumps({"error": "not found"}), 404, media_type="application/json"
            )
        item = queue[0] if len(queue) == 1 else queue.popleft()
        reply = await item(request) if callable(item) and not isinstance(item, Reply) else item
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        content = reply.raw if reply.raw is not None else orjson.dumps(reply.body)
        return Response(content, reply.status, headers=reply.headers, media_type="application/json")


def stub_app(stub: Stub) -> Starlette:
    methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]
    return Starlette(routes=[Route("/{path:path}", stub.handle, methods=methods)])


@asynccontextmanager
async def http_server(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app on 127.0.0.1:<free port>; yields the base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="error",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


WsHandler = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def ws_server(handler: WsHandler) -> AsyncIterator[str]:
    """A websocket server on 127.0.0.1:<free port>; yields its ws:// URL."""
    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"

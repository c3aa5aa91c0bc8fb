"""Serving an ASGI app from inside polytail's own event loop.

`polytail run` owns the process: its signals, its shutdown order. uvicorn's `serve()`
would install its own SIGINT/SIGTERM handlers, so the embedded server leaves signals to
the host, and binds its socket itself, so a busy port is a clear `OSError` at `start()`
instead of uvicorn's `sys.exit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator
from types import TracebackType
from typing import Final

import uvicorn
from starlette.types import ASGIApp

STARTUP_TIMEOUT_S: Final = 10.0


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the host process handles signals


class WebServer:
    """An async start/stop handle: `await server.start()` ... `await server.stop()`."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._socket: socket.socket | None = None
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with port 0: any free port)."""
        if self._socket is None:
            raise RuntimeError("the web server is not started")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the web server is already started")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        try:
            sock = socket.create_server((self._host, self._port), family=family)
        except OSError as error:
            raise OSError(
                error.errno,
                f"cannot listen on {self._host}:{self._port} ({error.strerror}); "
                "change web.host / web.port or stop what uses the port",
            ) from error
        config = uvicorn.Config(
            self._app,
            log_config=None,  # our logging (with redaction) handles uvicorn's records
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=5,
        )
        server = _EmbeddedServer(config)
        self._socket, self._server = sock, server
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="web-server")
        deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT_S
        while not server.started:
            if self._task.done():
                await self.stop()
                raise RuntimeError("the web server stopped during startup; see the log")
            if asyncio.get_running_loop().time() > deadline:
                await self.stop()
                raise RuntimeError("the web server did not start in time")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        server, task, sock = self._server, self._task, self._socket
        self._server = self._task = None
        if server is not None:
            server.should_exit = True
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, SystemExit):
                await task
        if sock is not None:
            sock.close()
        self._socket = None

    async def __aenter__(self) -> WebServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

"""Serve an ASGI app on loopback from a background thread (for tests that drive a
subprocess, which cannot share the test's event loop)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from polytail.sim.server import free_port


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the thread's owner handles signals
        return


@contextmanager
def serve_in_thread(app: ASGIApp) -> Iterator[str]:
    """Yields the base URL (`http://127.0.0.1:PORT`) while the app is served."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = _Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"could not serve on 127.0.0.1:{port}")
        threading.Event().wait(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

"""A loopback webhook receiver: records every POST and answers a scripted status."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class WebhookReceiver:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self.script: list[tuple[int, dict[str, str]]] = []  # answers before the 200s
        self._arrived = asyncio.Event()
        self.app = Starlette(routes=[Route("/hook/{secret}", self._handle, methods=["POST"])])

    async def _handle(self, request: Request) -> Response:
        self.attempts += 1
        if self.script:
            status, headers = self.script.pop(0)
            return Response(status_code=status, headers=headers)
        self.received.append(json.loads(await request.body()))
        self._arrived.set()
        return JSONResponse({"ok": True})

    async def wait_for(self, count: int, within_s: float = 10.0) -> list[dict[str, Any]]:
        async with asyncio.timeout(within_s):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.received

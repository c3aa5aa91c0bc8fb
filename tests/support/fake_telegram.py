"""A local fake of the Telegram Bot API, served on loopback for the notifier tests.

It implements what python-telegram-bot calls (`getMe`, `deleteWebhook`, `sendMessage`,
`getUpdates` with long polling, `close`/`logOut` are not needed), records every call,
lets a test queue incoming commands, and can answer `sendMessage` with 429 +
`retry_after` like the real API under flood control.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_ID = 777_000_111


class FakeBotApi:
    def __init__(self, token: str, *, username: str = "polytail_test_bot") -> None:
        self.token = token
        self.username = username
        self.calls: list[str] = []
        self.sent: list[dict[str, Any]] = []
        self.refusals: list[int] = []  # status codes answered instead of a message
        self.throttle_next = 0  # answer this many sendMessage calls with 429
        self.retry_after = 1
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = 1
        self._changed = asyncio.Event()
        self._arrived = asyncio.Event()
        self.app = Starlette(
            routes=[Route("/bot{token}/{method}", self._handle, methods=["GET", "POST"])]
        )

    # --- test controls ------------------------------------------------------------------
    def push_command(self, text: str, *, chat_id: int, user_id: int = 42) -> None:
        command = text.split(maxsplit=1)[0]
        self._updates.append(
            {
                "update_id": self._next_update,
                "message": {
                    "message_id": 10_000 + self._next_update,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"},
                    "from": {"id": user_id, "is_bot": False, "first_name": "operator"},
                    "text": text,
                    "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
                },
            }
        )
        self._next_update += 1
        self._changed.set()

    async def wait_for_messages(self, count: int, within_s: float = 10.0) -> list[str]:
        """The texts sent so far, once at least `count` messages arrived."""
        async with asyncio.timeout(within_s):
            while len(self.sent) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return [message["text"] for message in self.sent]

    # --- the Bot API ------------------------------------------------------------------------
    async def _params(self, request: Request) -> dict[str, Any]:
        body = await request.body()
        params: dict[str, Any] = dict(request.query_params)
        if not body:
            return params
        if request.headers.get("content-type", "").startswith("application/json"):
            params.update(json.loads(body))
        else:
            params.update(parse_qsl(body.decode()))
        return params

    async def _handle(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.path_params["method"]
        self.calls.append(method)
        params = await self._params(request)
        if method == "getMe":
            return self._ok(
                {
                    "id": BOT_ID,
                    "is_bot": True,
                    "first_name": "polytail",
                    "username": self.username,
                    "can_join_groups": True,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                }
            )
        if method == "deleteWebhook":
            if params.get("drop_pending_updates") in ("true", "True", True):
                self._updates.clear()
            return self._ok(True)
        if method == "sendMessage":
            return self._send_message(params)
        if method == "getUpdates":
            return await self._get_updates(params)
        return self._error(404, "Not Found: method not found")

    def _send_message(self, params: dict[str, Any]) -> JSONResponse:
        if self.throttle_next > 0:
            self.throttle_next -= 1
            self.refusals.append(429)
            return JSONResponse(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {self.retry_after}",
                    "parameters": {"retry_after": self.retry_after},
                },
                status_code=429,
            )
        chat_id = int(params["chat_id"])
        message = {
            "message_id": self._next_message,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "polytail"},
            "text": params["text"],
        }
        self._next_message += 1
        self.sent.append({"chat_id": chat_id, "text": params["text"], "params": params})
        self._arrived.set()
        return self._ok(message)

    async def _get_updates(self, params: dict[str, Any]) -> JSONResponse:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            self._changed.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait()
            except TimeoutError:
                pass
        return self._ok([u for u in self._updates if u["update_id"] >= offset])

    @staticmethod
    def _ok(result: object) -> JSONResponse:
        return JSONResponse({"ok": True, "result": result})

    @staticmethod
    def _error(status: int, description: str) -> JSONResponse:
        return JSONResponse(
            {"ok": False, "error_code": status, "description": description}, status_code=status
        )

"""Websockets: the CLOB market and user channels and the RTDS `activity` stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from polytail.sim.bus import Subscriber
from polytail.sim.exchange import Exchange


def routes(exchange: Exchange) -> list[WebSocketRoute]:
    async def serve(
        websocket: WebSocket,
        subscriber: Subscriber,
        on_frame: Callable[[Any], None],
        pong: str | None,
    ) -> None:
        await websocket.accept()
        exchange.hub.join(subscriber)

        async def reader() -> None:
            while True:
                message = await websocket.receive_text()
                if message.strip().upper() == "PING":
                    if pong is not None:
                        subscriber.send(pong)
                    continue
                try:
                    frame = json.loads(message)
                except json.JSONDecodeError:
                    subscriber.send(json.dumps({"error": "invalid JSON frame"}))
                    continue
                on_frame(frame)

        reading = asyncio.create_task(reader())
        try:
            while True:
                text = await subscriber.queue.get()
                if text is None:
                    break
                await websocket.send_text(text)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            exchange.hub.leave(subscriber)
            reading.cancel()
            with contextlib.suppress(
                asyncio.CancelledError, WebSocketDisconnect, RuntimeError, Exception
            ):
                await reading
            with contextlib.suppress(Exception):
                await websocket.close()

    async def market_channel(websocket: WebSocket) -> None:
        subscriber = Subscriber("market")

        def on_frame(frame: Any) -> None:
            if not isinstance(frame, dict):
                return
            assets = [str(a) for a in frame.get("assets_ids") or []]
            if frame.get("operation") == "unsubscribe":
                subscriber.assets.difference_update(assets)
                return
            new = [a for a in assets if a in exchange.token_markets and a not in subscriber.assets]
            subscriber.assets.update(assets)
            if new:
                books = [{"event_type": "book", **exchange.book_snapshot(a)} for a in new]
                subscriber.send(json.dumps(books))

        await serve(websocket, subscriber, on_frame, "PONG")

    async def user_channel(websocket: WebSocket) -> None:
        subscriber = Subscriber("user")

        def on_frame(frame: Any) -> None:
            if not isinstance(frame, dict):
                return
            markets = {str(m) for m in frame.get("markets") or []}
            if frame.get("type") == "user":
                auth = frame.get("auth") or {}
                key = exchange.api_keys.get(str(auth.get("apiKey", "")))
                if (
                    key is None
                    or key.secret != auth.get("secret")
                    or (key.passphrase != auth.get("passphrase"))
                ):
                    subscriber.send(json.dumps({"error": "Unauthorized/Invalid api key"}))
                    subscriber.close()
                    return
                subscriber.api_key = key.key
                subscriber.all_markets = "markets" not in frame
                subscriber.markets = markets
            elif frame.get("operation") == "subscribe":
                subscriber.markets.update(markets)
            elif frame.get("operation") == "unsubscribe":
                subscriber.markets.difference_update(markets)

        await serve(websocket, subscriber, on_frame, "PONG")

    async def rtds(websocket: WebSocket) -> None:
        subscriber = Subscriber("rtds")

        def on_frame(frame: Any) -> None:
            if not isinstance(frame, dict):
                return
            wanted = {
                (str(s.get("topic")), str(s.get("type", "*")))
                for s in frame.get("subscriptions") or []
                if isinstance(s, dict)
            }
            if frame.get("action") == "subscribe":
                subscriber.topics.update(wanted)
            elif frame.get("action") == "unsubscribe":
                subscriber.topics.difference_update(wanted)

        await serve(websocket, subscriber, on_frame, None)

    return [
        WebSocketRoute("/ws/market", market_channel),
        WebSocketRoute("/ws/user", user_channel),
        WebSocketRoute("/rtds", rtds),
    ]

"""CLOB websocket channels: the public market channel and the authenticated user channel.

Market channel (`/ws/market`): subscribe by asset id; events `book`, `price_change`,
`last_trade_price`, `tick_size_change` and, with the custom feature flag,
`best_bid_ask`, `new_market`, `market_resolved`. User channel (`/ws/user`): subscribe by
condition id with API credentials; events `trade` and `order` for our own orders. Both
take `PING` every 10 s; a connection without any frame or PONG for 30 s is stale.

Messages arrive as one JSON object or an array of them; `events()` yields them one by
one as dicts with an `event_type`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson

from polytail.config.secrets import Secret
from polytail.venue.stats import StreamStats
from polytail.venue.ws import Backoff, Reconnected, ReconnectingSocket


def _events(text: str, stats: StreamStats) -> list[dict[str, Any]]:
    try:
        decoded = orjson.loads(text)
    except orjson.JSONDecodeError:
        stats.bad_frames += 1
        return []
    items = decoded if isinstance(decoded, list) else [decoded]
    return [item for item in items if isinstance(item, dict)]


class MarketChannel:
    def __init__(
        self,
        url: str,
        assets: Iterable[str] = (),
        *,
        stale_after_s: float = 30.0,
        ping_interval_s: float = 10.0,
        stats: StreamStats | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.assets: set[str] = set(assets)
        self.socket = ReconnectingSocket(
            url,
            stats=stats,
            subscribe_frames=self._subscribe_frames,
            ping_text="PING",
            ping_interval_s=ping_interval_s,
            stale_after_s=stale_after_s,
            backoff=backoff,
        )

    def _subscribe_frames(self) -> list[str]:
        if not self.assets:
            return []
        frame = {
            "type": "market",
            "assets_ids": sorted(self.assets),
            "custom_feature_enabled": True,
        }
        return [orjson.dumps(frame).decode()]

    async def subscribe(self, assets: Iterable[str]) -> None:
        new = set(assets) - self.assets
        if not new:
            return
        first = not self.assets
        self.assets |= new
        frame: dict[str, Any] = (
            {"type": "market", "assets_ids": sorted(new), "custom_feature_enabled": True}
            if first
            else {
                "operation": "subscribe",
                "assets_ids": sorted(new),
                "custom_feature_enabled": True,
            }
        )
        await self.socket.send(orjson.dumps(frame).decode())

    async def unsubscribe(self, assets: Iterable[str]) -> None:
        gone = self.assets & set(assets)
        if not gone:
            return
        self.assets -= gone
        frame = {"operation": "unsubscribe", "assets_ids": sorted(gone)}
        await self.socket.send(orjson.dumps(frame).decode())

    async def events(self) -> AsyncIterator[dict[str, Any] | Reconnected]:
        async for event in self.socket.frames():
            if isinstance(event, Reconnected):
                yield event
                continue
            for item in _events(event.text, self.socket.stats):
                yield item

    async def close(self) -> None:
        await self.socket.close()


class UserChannel:
    """Our own orders and fills. The credentials are revealed only into the auth frame."""

    def __init__(
        self,
        url: str,
        *,
        api_key: Secret,
        api_secret: Secret,
        api_passphrase: Secret,
        markets: Iterable[str] = (),
        stale_after_s: float = 30.0,
        ping_interval_s: float = 10.0,
        stats: StreamStats | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._credentials = (api_key, api_secret, api_passphrase)
        self.markets = set(markets)
        self.socket = ReconnectingSocket(
            url,
            stats=stats,
            subscribe_frames=self._subscribe_frames,
            ping_text="PING",
            ping_interval_s=ping_interval_s,
            stale_after_s=stale_after_s,
            backoff=backoff,
        )

    def _subscribe_frames(self) -> list[str]:
        key, secret, passphrase = self._credentials
        frame: dict[str, Any] = {
            "type": "user",
            "auth": {
                "apiKey": key.reveal(),
                "secret": secret.reveal(),
                "passphrase": passphrase.reveal(),
            },
        }
        if self.markets:
            frame["markets"] = sorted(self.markets)
        return [orjson.dumps(frame).decode()]

    async def events(self) -> AsyncIterator[dict[str, Any] | Reconnected]:
        async for event in self.socket.frames():
            if isinstance(event, Reconnected):
                yield event
                continue
            for item in _events(event.text, self.socket.stats):
                yield item

    async def close(self) -> None:
        await self.socket.close()

"""RTDS `activity/trades`: the global trade stream with wallets, filtered client-side.

Undocumented and best-effort (polymarket-api.md §5.3): the server ignores slug filters,
may stall without closing, and may drop frames' `topic`/`type`. So the client subscribes
to everything, filters by watched wallet on the raw payload (a set lookup per frame, so
cost does not grow with the watch list), treats silence as a dead connection, and
reports every reconnect so the feed backfills the gap from the Data API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import Final

import orjson

from polytail.domain.fills import LeaderFill
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.common import Ignored
from polytail.venue.normalize.rtds import fill_from_payload, frame_payloads
from polytail.venue.stats import StreamStats
from polytail.venue.ws import Backoff, Reconnected, ReconnectingSocket

SUBSCRIBE: Final = orjson.dumps(
    {"action": "subscribe", "subscriptions": [{"topic": "activity", "type": "trades"}]}
).decode()
"""Compact JSON on purpose: whitespace inside RTDS subscribe frames has stalled topics."""


@dataclass(frozen=True, slots=True)
class StreamReject:
    error: MalformedRow


class RtdsClient:
    def __init__(
        self,
        url: str,
        *,
        stale_after_s: float = 30.0,
        max_backoff_s: float = 30.0,
        ping_interval_s: float = 5.0,
        stats: StreamStats | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.socket = ReconnectingSocket(
            url,
            stats=stats,
            subscribe_frames=lambda: [SUBSCRIBE],
            ping_text="ping",
            ping_interval_s=ping_interval_s,
            stale_after_s=stale_after_s,
            backoff=backoff or Backoff(max_s=max_backoff_s),
        )

    async def fills(
        self, watched: Collection[str]
    ) -> AsyncIterator[LeaderFill | Reconnected | StreamReject]:
        """Fills of `watched` wallets (lowercase), reconnect markers, and bad payloads.

        `watched` is read on every frame, so a set the caller mutates changes the filter
        live.
        """
        async for event in self.socket.frames():
            if isinstance(event, Reconnected):
                yield event
                continue
            try:
                payloads = frame_payloads(event.text)
            except MalformedRow as error:
                self.socket.stats.bad_frames += 1
                yield StreamReject(error)
                continue
            for payload in payloads:
                try:
                    result = fill_from_payload(
                        payload, watched=watched, received_ns=event.received_ns
                    )
                except MalformedRow as error:
                    self.socket.stats.bad_frames += 1
                    yield StreamReject(error)
                    continue
                if not isinstance(result, Ignored):
                    yield result

    async def close(self) -> None:
        await self.socket.close()

"""A websocket that stays connected: subscribe, keep alive, detect staleness, reconnect.

Shared by RTDS, the CLOB market and user channels and `eth_subscribe`. The transport is
the `websockets` library; what is ours is the supervision loop:

- after every (re)connect the subscribe frames are sent again;
- an application-level ping (`PING` for the CLOB, `ping` for RTDS) goes out on a timer;
- a connection that delivered nothing for `stale_after_s` is dropped and replaced
  (RTDS has been seen to stall silently without closing);
- reconnects back off exponentially with jitter, reset once a frame arrives;
- each reconnect yields `Reconnected`, so a feed knows to backfill the gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from polytail.venue.stats import StreamStats


@dataclass(frozen=True, slots=True)
class Frame:
    text: str
    received_ns: int  # time.monotonic_ns() on arrival


@dataclass(frozen=True, slots=True)
class Reconnected:
    """The socket reconnected after a gap that began at `down_since_ns` (monotonic)."""

    down_since_ns: int
    attempts: int


@dataclass(slots=True)
class Backoff:
    """Exponential backoff with jitter in [delay/2, delay]: never hammers, never syncs."""

    min_s: float = 0.5
    max_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.max_s, self.min_s * 2**self.attempts)
        self.attempts += 1
        jitter: float = self.rng.random()
        return float(ceiling * (0.5 + 0.5 * jitter))

    def reset(self) -> None:
        self.attempts = 0


class ReconnectingSocket:
    def __init__(
        self,
        url: str,
        *,
        stats: StreamStats | None = None,
        subscribe_frames: Callable[[], list[str]] | None = None,
        ping_text: str | None = None,
        ping_interval_s: float = 10.0,
        stale_after_s: float = 30.0,
        keepalive_replies: frozenset[str] = frozenset({"PONG", "pong"}),
        backoff: Backoff | None = None,
        open_timeout_s: float = 10.0,
    ) -> None:
        self.url = url
        self.stats = stats or StreamStats()
        self.subscribe_frames = subscribe_frames or list
        self.ping_text = ping_text
        self.ping_interval_s = ping_interval_s
        self.stale_after_s = stale_after_s
        self.keepalive_replies = keepalive_replies
        self.backoff = backoff or Backoff()
        self.open_timeout_s = open_timeout_s
        self._connection: ClientConnection | None = None
        self._closed = False

    @property
    def closing(self) -> bool:
        return self._closed

    @property
    def connected(self) -> bool:
        return self._connection is not None

    async def send(self, text: str) -> bool:
        """Send on the live connection; False when disconnected (it resubscribes anyway)."""
        connection = self._connection
        if connection is None:
            return False
        try:
            await connection.send(text)
        except WebSocketException:
            return False
        return True

    async def close(self) -> None:
        self._closed = True
        connection = self._connection
        if connection is not None:
            await connection.close()

    async def _pinger(self, connection: ClientConnection) -> None:
        if self.ping_text is None:
            return
        while True:
            await asyncio.sleep(self.ping_interval_s)
            await connection.send(self.ping_text)

    async def frames(self) -> AsyncIterator[Frame | Reconnected]:
        down_since: int | None = None
        while not self._closed:
            try:
                async with connect(
                    self.url,
                    open_timeout=self.open_timeout_s,
                    ping_interval=None,  # application-level pings, as the venue expects
                    max_size=2**24,
                ) as connection:
                    self._connection = connection
                    self.stats.connects += 1
                    for frame in self.subscribe_frames():
                        await connection.send(frame)
                    if down_since is not None:
                        self.stats.reconnects += 1
                        yield Reconnected(down_since, self.backoff.attempts)
                        down_since = None
                    pinger = asyncio.create_task(self._pinger(connection))
                    try:
                        async for item in self._read(connection):
                            yield item
                    finally:
                        pinger.cancel()
                        with contextlib.suppress(asyncio.CancelledError, WebSocketException):
                            await pinger
            except (OSError, TimeoutError, WebSocketException):
                pass  # a failed connect or a dropped connection: back off and retry
            finally:
                self._connection = None
            if self.closing:
                return
            if down_since is None:
                down_since = time.monotonic_ns()
            await asyncio.sleep(self.backoff.next_delay())

    async def _read(self, connection: ClientConnection) -> AsyncIterator[Frame]:
        while True:
            try:
                async with asyncio.timeout(self.stale_after_s):
                    message = await connection.recv()
            except TimeoutError:
                self.stats.stale += 1
                return  # stale: drop this connection and open a new one
            text = message if isinstance(message, str) else message.decode()
            self.backoff.reset()
            if text in self.keepalive_replies:
                continue
            self.stats.frames += 1
            yield Frame(text, time.monotonic_ns())

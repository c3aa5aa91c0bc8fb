"""An in-process Data API on the event loop's (virtual) clock, for scheduler tests.

Rows are `Piece`s whose timestamps are venue seconds; a row becomes visible `lag_s`
after its timestamp, like the venue's indexer. Faults: `fail` (a venue error to raise for
the next calls), `stale` (serve the answer of an earlier call, like a cached page) and
`cap` (truncate walks to that many rows, like the v1 offset cap).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from polytail.domain.fills import FeedSource
from polytail.domain.ids import Address
from polytail.venue.data_api import Walk
from polytail.venue.errors import VenueError
from polytail.venue.normalize.activity import activity_batch

from .factories import Piece, api_row


@dataclass
class Call:
    at: float
    wallet: str
    start: int
    rows: int


class LoopClock:
    """Wall time = the loop's (virtual) time plus a base, so venue timestamps line up."""

    def __init__(self, base_s: int) -> None:
        self.base_s = base_s

    def now_ms(self) -> int:
        return int((self.base_s + asyncio.get_running_loop().time()) * 1000)

    def monotonic_ns(self) -> int:
        return int(asyncio.get_running_loop().time() * 1e9)


@dataclass
class FakeActivity:
    clock: LoopClock
    latency_s: float = 0.05
    lag_s: float = 0.0
    page_size: int = 500
    cap: int | None = None
    rows: dict[str, list[Piece]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    fail: list[Callable[[], VenueError]] = field(default_factory=list)
    stale: int = 0  # serve this many answers from the previous call of the same wallet
    _last: dict[str, list[Piece]] = field(default_factory=dict)

    def trade(self, piece: Piece) -> None:
        self.rows.setdefault(piece.wallet, []).append(piece)

    async def activity_fills(
        self,
        user: Address,
        *,
        start: int,
        end: int | None = None,
        page_size: int = 500,
        source: FeedSource = FeedSource.POLL,
        received_ns: int = 0,
    ) -> Walk:
        await asyncio.sleep(self.latency_s)
        now_s = self.clock.now_ms() / 1000
        if self.fail:
            self.calls.append(Call(asyncio.get_running_loop().time(), user, start, 0))
            raise self.fail.pop(0)()
        if self.stale and user in self._last:
            self.stale -= 1
            visible = [p for p in self._last[user] if p.timestamp >= start]
        else:
            visible = [
                p
                for p in self.rows.get(user, [])
                if p.timestamp >= start and p.timestamp + self.lag_s <= now_s
            ]
            self._last[user] = list(self.rows.get(user, []))
            self._last[user] = [p for p in self._last[user] if p.timestamp + self.lag_s <= now_s]
        visible.sort(key=lambda p: p.timestamp)
        truncated = self.cap is not None and len(visible) > self.cap
        if truncated:
            visible = visible[: self.cap]
        self.calls.append(Call(asyncio.get_running_loop().time(), user, start, len(visible)))
        batch = activity_batch(
            [api_row(p) for p in visible], source=source, received_ns=received_ns
        )
        pages = max(1, math.ceil(len(visible) / page_size))
        return Walk(batch, pages, len(visible), truncated)

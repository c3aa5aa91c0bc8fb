"""Stream feed: the RTDS activity firehose, filtered to the watched wallets.

The venue client (`venue.rtds.RtdsClient`) does the socket work: one set lookup per frame
against `WatchList.live`, staleness detection, reconnects with backoff, and a
`Reconnected` marker after every gap. This feed adds:

- **Order.** Frames arriving within `reorder_window_s` of each other are merged as one
  batch sorted by venue time, so a pair the stream swapped reaches the engine in the
  order it happened. The window is the latency this costs (20 ms by default).
- **Gaps.** After every reconnect (and at start, from the saved cursor) the Data API is
  read for every watched wallet from the start of the gap minus `backfill_margin_s`.
  Until a wallet's gap is read, its new stream fills are held back and that wallet is
  read first, so a fill from the gap never reaches the engine after a later one.
- **Identical fills.** A frame can only be occurrence 0 of its key, so when identical
  frames repeat (a burst of equal fills in one transaction, or a repeated frame), the
  wallet is read from the Data API until that transaction is listed, which hands out the
  fills the stream could not; the wallet's later fills wait for it.
- **Venue time.** Gap starts are wall-clock readings; the venue's clock may lag ours (the
  local exchange's manual clock does). The newest fill's timestamp minus our clock
  estimates the lag, and a lagging venue moves the gap start back by it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass

import structlog

from polytail.config.schema import StreamFeedSettings
from polytail.domain.clock import Clock
from polytail.domain.fills import FeedSource, LeaderFill
from polytail.domain.ids import Address
from polytail.feeds.backfill import Backfiller
from polytail.feeds.clock import WallClock
from polytail.feeds.journal import Cursor
from polytail.feeds.merge import FillMerger
from polytail.feeds.observe import FeedObserver, FeedState, Health, NullObserver
from polytail.feeds.walk import ActivityApi
from polytail.feeds.watchlist import WatchChange, WatchList
from polytail.venue.rtds import RtdsClient, StreamReject
from polytail.venue.ws import Reconnected

log = structlog.get_logger("polytail.feeds")

NAME = "stream"
_CURSOR_KEY = "venue_s"
_SUBMIT_ATTEMPTS = 3
_REPEAT_MEMORY = 10_000


@dataclass(slots=True)
class StreamCounters:
    fills: int = 0
    batches: int = 0
    reconnects: int = 0
    held: int = 0
    verified: int = 0  # transactions read whole because identical frames repeated


class StreamFeed:
    def __init__(
        self,
        rtds: RtdsClient,
        merger: FillMerger,
        watchlist: WatchList,
        settings: StreamFeedSettings,
        *,
        backfill_api: ActivityApi | None = None,
        page_size: int = 500,
        clock: Clock | None = None,
        observer: FeedObserver | None = None,
    ) -> None:
        self.rtds = rtds
        self.merger = merger
        self.watchlist = watchlist
        self.settings = settings
        self.clock: Clock = clock or WallClock()
        self.health = Health(NAME, observer or NullObserver(), self.clock)
        self.backfiller: Backfiller | None = None
        if settings.backfill and backfill_api is not None:
            self.backfiller = Backfiller(
                backfill_api, merger, health=self.health, clock=self.clock, page_size=page_size
            )
            self.backfiller.on_done = self.release
        self.stats = StreamCounters()
        self._inbox: list[LeaderFill] = []
        self._arrived = asyncio.Event()
        self._held: dict[Address, list[LeaderFill]] = {}
        self._recent: dict[Address, int] = {}
        self._repeats: dict[str, int] = {}
        self._lag_s = 0
        self._cursor: int | None = None

    async def run(self) -> None:
        saved = (await self.merger.cursors(NAME)).get(_CURSOR_KEY)
        self._cursor = int(saved) if saved else None
        unsubscribe = self.watchlist.subscribe(self._on_change)
        try:
            async with asyncio.TaskGroup() as group:
                helpers = [group.create_task(self._flusher()), group.create_task(self._watchdog())]
                if self.backfiller is not None:
                    helpers.append(group.create_task(self.backfiller.run()))
                    if self._cursor is not None:
                        self._backfill(self._cursor - int(self.settings.backfill_margin_s))
                await self._read()  # returns only once the client was closed
                for helper in helpers:
                    helper.cancel()
        finally:
            unsubscribe()

    async def close(self) -> None:
        await self.rtds.close()

    # --- reading -------------------------------------------------------------------------

    async def _read(self) -> None:
        async for event in self.rtds.fills(self.watchlist.live):
            if isinstance(event, LeaderFill):
                self._lag_s = min(0, event.timestamp - self.clock.now_ms() // 1000)
                self._note_repeat(event)
                self._inbox.append(event)
                self._arrived.set()
            elif isinstance(event, Reconnected):
                self._reconnected(event)
            elif isinstance(event, StreamReject):
                self.health.reject(FeedSource.STREAM, event.error)

    def _note_repeat(self, fill: LeaderFill) -> None:
        """A frame identical to an earlier one is a repeat, or one of several identical
        fills in one transaction: only a whole-transaction read can tell. Until it has,
        the wallet's later fills wait (see `Backfiller`)."""
        repeats = self._repeats
        count = repeats.get(fill.fill_id, 0) + 1
        if len(repeats) >= _REPEAT_MEMORY:
            repeats.clear()
        repeats[fill.fill_id] = count
        if count == 2 and self.backfiller is not None and fill.tx_hash is not None:
            self.stats.verified += 1
            self.backfiller.request(fill.timestamp, [fill.wallet], expect=fill.tx_hash)
            self.backfiller.prioritize(fill.wallet)

    def _reconnected(self, event: Reconnected) -> None:
        self.stats.reconnects += 1
        down_for_ms = (time.monotonic_ns() - event.down_since_ns) // 1_000_000
        gap_start_s = (self.clock.now_ms() - down_for_ms) // 1000 + self._lag_s
        since = gap_start_s - int(self.settings.backfill_margin_s)
        if self.backfiller is None:
            self.health.set(
                FeedState.READY,
                "reconnected; backfill is off, so the gap is covered by polling only",
            )
            return
        self._backfill(since)

    def _backfill(self, since: int) -> None:
        assert self.backfiller is not None
        wallets = self._by_activity(self.watchlist.snapshot())
        self.health.set(
            FeedState.DEGRADED,
            f"reading the stream's gap from the Data API ({len(wallets)} wallets)",
        )
        self.backfiller.request(max(1, since), wallets)

    def _by_activity(self, wallets: Iterable[Address]) -> list[Address]:
        recent = self._recent
        return sorted(wallets, key=lambda wallet: -recent.get(wallet, 0))

    async def _watchdog(self) -> None:
        interval = max(0.05, min(self.settings.stale_after_s / 2, 1.0))
        while True:
            # While not connected, look often: readiness (and `/ready`) waits for this.
            waiting = self.health.state in (FeedState.STARTING, FeedState.DOWN)
            await asyncio.sleep(min(interval, 0.05) if waiting else interval)
            connected = self.rtds.socket.connected
            if connected and self.health.state in (FeedState.STARTING, FeedState.DOWN):
                self.health.set(FeedState.READY, "connected")
            elif not connected and self.health.state is not FeedState.DOWN:
                self.health.set(
                    FeedState.DOWN, "RTDS disconnected; reconnecting with backoff (polling covers)"
                )

    def _on_change(self, change: WatchChange) -> None:
        if self.backfiller is not None:
            self.backfiller.forget(change.removed)
        for wallet in change.removed:
            held = self._held.pop(wallet, None)
            if held:  # watched when they happened: pass them on
                self._inbox.extend(held)
                self._arrived.set()

    # --- batching, holding, submitting ---------------------------------------------------

    async def _flusher(self) -> None:
        window = self.settings.reorder_window_s
        while True:
            await self._arrived.wait()
            if window > 0:
                await asyncio.sleep(window)
            self._arrived.clear()
            batch, self._inbox = self._inbox, []
            if batch:
                await self._flush(batch)

    async def _flush(self, batch: list[LeaderFill]) -> None:
        batch.sort(key=lambda fill: fill.timestamp)  # stable: arrival order within a second
        ready: list[LeaderFill] = []
        backfiller = self.backfiller
        for fill in batch:
            if self._recent.get(fill.wallet, 0) < fill.timestamp:
                self._recent[fill.wallet] = fill.timestamp
            if backfiller is not None and backfiller.holds(fill.wallet, fill.timestamp):
                self._held.setdefault(fill.wallet, []).append(fill)
                self.stats.held += 1
                backfiller.prioritize(fill.wallet)
            else:
                ready.append(fill)
        if ready:
            await self._submit(ready)

    async def release(self, wallet: Address) -> None:
        """The wallet's gap has been read: pass on what the stream held back for it."""
        held = self._held.pop(wallet, None)
        if held:
            await self._submit(held)

    async def _submit(self, fills: list[LeaderFill]) -> None:
        newest = max(fill.timestamp for fill in fills)
        cursor = None
        if self._cursor is None or newest > self._cursor:
            cursor = Cursor(NAME, _CURSOR_KEY, str(newest))
        for attempt in range(1, _SUBMIT_ATTEMPTS + 1):
            try:
                await self.merger.submit(fills, cursor=cursor)
            except Exception as error:
                log.warning(
                    "could not record stream fills; retrying",
                    attempt=attempt,
                    error=f"{type(error).__name__}: {error}",
                )
                await asyncio.sleep(0.2 * attempt)
                continue
            self.stats.fills += len(fills)
            self.stats.batches += 1
            if cursor is not None:
                self._cursor = newest
            return
        log.error("stream fills could not be recorded; reading them again from the Data API")
        if self.backfiller is not None:
            since = min(fill.timestamp for fill in fills) - 1
            self.backfiller.request(since, sorted({fill.wallet for fill in fills}))

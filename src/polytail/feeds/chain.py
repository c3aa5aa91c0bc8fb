"""Chain feed: the exchanges' `OrderFilled` logs of the watched wallets, block range by range.

A watched wallet's fills are the events whose `maker` (the owner of the filled order) is
that wallet; the taking order's own event names the exchange as `taker`, so matching on
`taker` too would count the other side of every match (see `venue.normalize.logs`).

**Finality.** Blocks up to `head - confirmations` are final: they are read once, in
ranges of at most `max_block_range`, and the cursor (the last final block read) is saved
in the transaction that records their fills. With `read_unconfirmed`, the tail above it
is read too, on every poll, for speed. A reorg of that tail cannot create or lose a fill:
a transaction that moves to another block keeps its fill ids (they do not contain the
block or the log index), a log the node marks `removed` is ignored, and the final read
of those blocks comes later anyway. What it can do is hand out a fill whose transaction
then never makes it into the chain; that is why the tail is off by default.

Large watch lists are split into chunks of `wallets_per_call` makers per `eth_getLogs`.
Occurrence numbering is per (transaction, wallet, ...), so chunking cannot change ids.
"""

from __future__ import annotations

import asyncio

import structlog

from polytail.config.schema import ChainFeedSettings
from polytail.domain.clock import Clock
from polytail.domain.fills import FeedSource, LeaderFill
from polytail.domain.ids import Address
from polytail.feeds.clock import WallClock
from polytail.feeds.journal import Cursor
from polytail.feeds.merge import FillMerger
from polytail.feeds.observe import FeedObserver, FeedState, Health, NullObserver
from polytail.feeds.watchlist import WatchList
from polytail.venue.chain import ChainClient
from polytail.venue.errors import VenueError

log = structlog.get_logger("polytail.feeds")

NAME = "chain"
_CURSOR_KEY = "block"


class ChainFeed:
    def __init__(
        self,
        chain: ChainClient,
        merger: FillMerger,
        watchlist: WatchList,
        settings: ChainFeedSettings,
        *,
        wallets_per_call: int = 500,
        clock: Clock | None = None,
        observer: FeedObserver | None = None,
    ) -> None:
        self.chain = chain
        self.merger = merger
        self.watchlist = watchlist
        self.settings = settings
        self.wallets_per_call = wallets_per_call
        self.clock: Clock = clock or WallClock()
        self.health = Health(NAME, observer or NullObserver(), self.clock)
        self.cursor: int | None = None
        self.head: int | None = None

    async def run(self) -> None:
        saved = (await self.merger.cursors(NAME)).get(_CURSOR_KEY)
        self.cursor = int(saved) if saved else None
        while True:
            try:
                await self.step()
            except VenueError as error:
                self.health.set(
                    FeedState.DEGRADED,
                    f"reading logs failed ({error}); retrying from block {self.cursor}",
                )
            else:
                self.health.set(FeedState.READY, "reading final blocks")
            await asyncio.sleep(self.settings.poll_interval_s)

    async def step(self) -> int:
        """Read every new final block (and the tail, if enabled); returns fills handed out."""
        head = await self.chain.block_number()
        self.head = head
        final = head - self.settings.confirmations
        wallets = sorted(self.watchlist)
        handed_out = 0
        if self.cursor is None:  # first run: start at the chain's present
            await self.merger.submit([], cursor=Cursor(NAME, _CURSOR_KEY, str(final)))
            self.cursor = final
        while self.cursor < final:
            end = min(final, self.cursor + self.settings.max_block_range)
            fills = await self._read(wallets, self.cursor + 1, end)
            outcome = await self.merger.submit(fills, cursor=Cursor(NAME, _CURSOR_KEY, str(end)))
            handed_out += len(outcome.emitted)
            self.cursor = end
        if self.settings.read_unconfirmed and head > final:
            fills = await self._read(wallets, final + 1, head)
            handed_out += len((await self.merger.submit(fills)).emitted)
        return handed_out

    async def _read(self, wallets: list[Address], first: int, last: int) -> list[LeaderFill]:
        fills: list[LeaderFill] = []
        for start in range(0, len(wallets), self.wallets_per_call):
            chunk = wallets[start : start + self.wallets_per_call]
            batch = await self.chain.fills(
                chunk, first, last, received_ns=self.clock.monotonic_ns()
            )
            for error in batch.rejects:
                self.health.reject(FeedSource.CHAIN, error)
            fills.extend(batch.fills)
        return fills

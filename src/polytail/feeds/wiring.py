"""All feeds of a run, built from the configuration, supervised, merged into one stream.

    watchlist = WatchList.from_config(config)
    feeds = Feeds.build(config.feeds, clients, store, watchlist, observer=observer)
    async with asyncio.TaskGroup() as group:
        group.create_task(feeds.run())
        async for fill in feeds.merger:          # each leader fill once, causal per wallet
            ...
    watchlist.update(watched_addresses(new_config))   # hot reload: no restart

Each feed runs under its own supervisor: a feed that crashes is reported DOWN and
restarted with backoff, and the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from polytail.config.schema import FeedsSettings
from polytail.domain.clock import Clock
from polytail.feeds.chain import ChainFeed
from polytail.feeds.clock import WallClock
from polytail.feeds.merge import FillMerger
from polytail.feeds.observe import FeedObserver, FeedState, Health, NullObserver
from polytail.feeds.poll import PollFeed, poll_rate
from polytail.feeds.stream import StreamFeed
from polytail.feeds.walk import ActivityApi
from polytail.feeds.watchlist import WatchList
from polytail.store import Store
from polytail.venue.clients import VenueClients
from polytail.venue.rtds import RtdsClient

log = structlog.get_logger("polytail.feeds")

_RESTART_MIN_S = 1.0
_RESTART_MAX_S = 60.0


@dataclass
class Feeds:
    merger: FillMerger
    watchlist: WatchList
    stream: StreamFeed | None = None
    poll: PollFeed | None = None
    chain: ChainFeed | None = None
    clock: Clock = field(default_factory=WallClock)
    observer: FeedObserver = field(default_factory=NullObserver)

    @classmethod
    def build(
        cls,
        settings: FeedsSettings,
        clients: VenueClients,
        store: Store,
        watchlist: WatchList,
        *,
        rtds_url: str,
        observer: FeedObserver | None = None,
        clock: Clock | None = None,
        merger: FillMerger | None = None,
    ) -> Feeds:
        """The enabled feeds on `clients` (see `VenueClients.from_settings(venue,
        chain=settings.chain)`), merging into `store`. `rtds_url` is `venue.rtds_url`."""
        clock = clock or WallClock()
        observer = observer or NullObserver()
        merger = merger or FillMerger.for_store(store, settings, clock=clock, observer=observer)
        api: ActivityApi = clients.data_v1 if settings.poll.api == "v1" else clients.data_v2
        feeds = cls(merger=merger, watchlist=watchlist, clock=clock, observer=observer)
        if settings.stream.enabled:
            rtds = RtdsClient(
                rtds_url,
                stale_after_s=settings.stream.stale_after_s,
                max_backoff_s=settings.stream.max_backoff_s,
                stats=clients.stats.stream("rtds"),
            )
            feeds.stream = StreamFeed(
                rtds,
                merger,
                watchlist,
                settings.stream,
                backfill_api=api,
                page_size=settings.poll.page_size,
                clock=clock,
                observer=observer,
            )
        if settings.poll.enabled:
            family = "data.activity" if settings.poll.api == "v1" else "data.v2.activity"
            requests, window_s = clients.limiter.budget(family)
            feeds.poll = PollFeed(
                api,
                merger,
                watchlist,
                settings.poll,
                rate_per_s=poll_rate(requests, window_s, settings.poll.budget_share),
                clock=clock,
                observer=observer,
            )
        if settings.chain.enabled:
            feeds.chain = ChainFeed(
                clients.chain, merger, watchlist, settings.chain, clock=clock, observer=observer
            )
        return feeds

    def runners(self) -> dict[str, Callable[[], Awaitable[object]]]:
        found: dict[str, Callable[[], Awaitable[object]]] = {}
        if self.stream is not None:
            found["stream"] = self.stream.run
        if self.poll is not None:
            found["poll"] = self.poll.run
        if self.chain is not None:
            found["chain"] = self.chain.run
        return found

    async def run(self) -> None:
        """Run every enabled feed until cancelled; then let batches in flight finish."""
        try:
            async with asyncio.TaskGroup() as group:
                for name, runner in self.runners().items():
                    group.create_task(self._supervise(name, runner), name=f"feed-{name}")
        finally:
            if self.stream is not None:
                await self.stream.close()
            with contextlib.suppress(Exception):
                await asyncio.shield(self.merger.drain())

    async def _supervise(self, name: str, runner: Callable[[], Awaitable[object]]) -> None:
        health = Health(name, self.observer, self.clock)
        delay = _RESTART_MIN_S
        while True:
            try:
                await runner()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.exception("feed crashed; restarting", feed=name, in_s=delay)
                health.set(
                    FeedState.DOWN,
                    f"crashed ({type(error).__name__}: {error}); restarting in {delay:g} s",
                )
            await asyncio.sleep(delay)
            delay = min(_RESTART_MAX_S, delay * 2)

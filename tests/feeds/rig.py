"""The feeds running against the local exchange, and the exchange's own record as truth.

`running(...)` builds the real feeds (`Feeds.build`) on venue clients pointed at the
local exchange, merges into a real store, and collects every fill handed out. The truth
is the exchange's tape: every Data API row it wrote, i.e. every side of every fill.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from polytail.config.schema import FeedsSettings
from polytail.domain.fills import LeaderFill
from polytail.feeds.watchlist import WatchList
from polytail.feeds.wiring import Feeds
from polytail.sim.server import RunningSim
from polytail.store import Store
from polytail.venue.clients import VenueClients
from tests.support.sim import venue_settings

Key = tuple[str, str, str, str]


def feed_settings(
    *,
    stream: bool = True,
    poll: bool = True,
    chain: bool = False,
    tune: dict[str, dict[str, Any]] | None = None,
) -> FeedsSettings:
    """Settings for tests: fast intervals, short windows, every feed switchable."""
    raw: dict[str, Any] = {
        "stream": {
            "enabled": stream,
            "stale_after_s": 5,
            "max_backoff_s": 0.2,
            "reorder_window_s": 0.02,
            "backfill_margin_s": 30,
        },
        "poll": {
            "enabled": poll,
            "min_interval_s": 0.05,
            "max_interval_s": 0.4,
            "overlap_s": 30,
            "lookback_s": 600,
        },
        "chain": {"enabled": chain, "confirmations": 0, "poll_interval_s": 0.05},
    }
    for name, values in (tune or {}).items():
        raw[name] = {**raw[name], **values}
    return FeedsSettings.model_validate(raw)


def token_of(sim: RunningSim, slug: str, outcome: int = 0) -> str:
    market = next(m for m in sim.admin.state()["markets"] if m["slug"] == slug)
    return str(market["token_ids"][outcome])


def condition_of(sim: RunningSim, slug: str) -> str:
    return str(next(m for m in sim.admin.state()["markets"] if m["slug"] == slug)["condition_id"])


def truth(sim: RunningSim, wallets: Collection[str]) -> Counter[tuple[str, str, str, str, int]]:
    """Every watched wallet's fill sides, as the exchange wrote them: (tx, wallet, token,
    side, shares in base units) -> how many."""
    watched = {w.lower() for w in wallets}
    return Counter(
        (row.tx_hash, row.wallet.lower(), row.token_id, row.side, row.shares)
        for row in list(sim.exchange.tape.rows)
        if row.kind == "TRADE" and row.wallet.lower() in watched
    )


def per_group(pieces: Counter[tuple[str, str, str, str, int]]) -> Counter[Key]:
    totals: Counter[Key] = Counter()
    for (tx, wallet, token, side, shares), count in pieces.items():
        totals[(tx, wallet, token, side)] += shares * count
    return totals


def handed_pieces(fills: Iterable[LeaderFill]) -> Counter[tuple[str, str, str, str, int]]:
    return Counter(
        (f.tx_hash or "", f.wallet, f.token_id, f.side.value, f.size.units) for f in fills
    )


async def until(condition: Callable[[], bool], *, within: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.02)


@dataclass
class Rig:
    sim: RunningSim
    store: Store
    watch: WatchList
    feeds: Feeds
    clients: VenueClients
    handed: list[LeaderFill] = field(default_factory=list)
    subscriptions: set[object] = field(default_factory=set)  # seen before (kept alive)

    async def admin(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """An admin call off the event loop (the feeds run on it)."""
        return await asyncio.to_thread(getattr(self.sim.admin, method), *args, **kwargs)

    async def subscribed(self) -> None:
        """Wait until this rig's stream has a new live subscription at the exchange."""
        hub = self.sim.exchange.hub

        def fresh() -> list[object]:
            return [
                s
                for s in list(hub.subscribers["rtds"])
                if s.topics and not s.closed and s not in self.subscriptions
            ]

        await until(lambda: bool(fresh()), what="the stream to subscribe")
        self.subscriptions.update(fresh())

    def pieces(self) -> Counter[tuple[str, str, str, str, int]]:
        return handed_pieces(self.handed)

    async def delivered(self, *, within: float = 20.0) -> None:
        """Wait until the watched wallets' every share on the tape has been handed out."""
        expected = per_group(truth(self.sim, self.watch.snapshot()))
        await until(lambda: per_group(self.pieces()) == expected, within=within, what="every fill")

    async def settled(self) -> None:
        """Let every feed read past everything once more (late duplicates would show)."""
        feeds = self.feeds
        if feeds.poll is not None:
            target = feeds.poll.polls + 2 * max(1, len(self.watch))
            await until(lambda: feeds.poll is not None and feeds.poll.polls >= target)
        chain = feeds.chain
        if chain is not None:
            final = self.sim.exchange.chain.observe_head() - chain.settings.confirmations
            await until(lambda: (chain.cursor or 0) >= final, what="the chain to read on")
        if feeds.stream is not None and feeds.stream.backfiller is not None:
            backfiller = feeds.stream.backfiller
            await until(lambda: backfiller.pending == 0)
        await asyncio.sleep(0.1)  # one more reorder window and merge


def shares(value: str) -> int:
    return int(Decimal(value) * 1_000_000)


@asynccontextmanager
async def running(
    sim: RunningSim, store: Store, wallets: Iterable[str], settings: FeedsSettings
) -> AsyncIterator[Rig]:
    venue = venue_settings(sim)
    clients = VenueClients.from_settings(venue, chain=settings.chain)
    watch = WatchList(wallets)
    feeds = Feeds.build(settings, clients, store, watch, rtds_url=venue.rtds_url)
    rig = Rig(sim, store, watch, feeds, clients)
    rig.subscriptions = set(sim.exchange.hub.subscribers["rtds"])

    async def collect() -> None:
        async for fill in feeds.merger:
            rig.handed.append(fill)

    tasks = [asyncio.create_task(feeds.run()), asyncio.create_task(collect())]
    try:
        if feeds.stream is not None:
            await rig.subscribed()
        yield rig
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await clients.close()

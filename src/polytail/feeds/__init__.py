"""Leader-fill detection: stream, poll, chain and replay feeds, merged exactly once.

Public surface for the engine and the backtester:

- `WatchList`: the watched wallets; `update(addresses)` changes them at runtime.
- `FillMerger`: feeds submit batches; `await merger.get()` / `async for fill in merger`
  yields each leader fill once, in causal order per wallet.
- `Feeds.build(...)`: the enabled stream, poll and chain feeds on the venue clients and
  the store, supervised (`await feeds.run()`).
- `replay_files(paths, wallets)`: recorded files merged the same way, without an event loop.
- `FeedObserver`: what the feeds report (the engine's `BusObserver` publishes it).
"""

from polytail.feeds.journal import Cursor, MemoryJournal, StoreJournal
from polytail.feeds.merge import DUST, FillMerger, MergeCore, Outcome
from polytail.feeds.observe import FeedObserver, FeedState, NullObserver
from polytail.feeds.replay import ReplayFeed, ReplayResult, fill_record, replay_files
from polytail.feeds.watchlist import WatchChange, WatchList, watched_addresses
from polytail.feeds.wiring import Feeds

__all__ = [
    "DUST",
    "Cursor",
    "FeedObserver",
    "FeedState",
    "Feeds",
    "FillMerger",
    "MemoryJournal",
    "MergeCore",
    "NullObserver",
    "Outcome",
    "ReplayFeed",
    "ReplayResult",
    "StoreJournal",
    "WatchChange",
    "WatchList",
    "fill_record",
    "replay_files",
    "watched_addresses",
]

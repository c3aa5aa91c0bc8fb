"""Leader-fill detection without the network: filter cost, memory, merging, poll schedule.

- Stream filter: one RTDS frame of a wallet nobody watches, from bytes to dropped, with
  10, 10,000 and 100,000 watched wallets (it must stay flat), and a watched frame for
  comparison.
- Memory: the watch set and the merger's seen set, bytes per entry (tracemalloc).
- Merging: a repeated sighting (the common case: every feed re-reports), a page of 500
  new fills into SQLite, and one new stream fill through the live merger (thread hop,
  one SQLite transaction) as the hot path sees it.
- Polling: the scheduler on virtual time (looptime) against an in-process Data API at the
  budget the configuration gives (45 walks/s: 1,000 per 10 s x 0.9 x 0.5) with 25, 250 and
  2,500 watched wallets; the delay from a fill becoming visible to it being handed out,
  against the bound N / rate (the period of a perfect round robin at the full budget).
"""

from __future__ import annotations

import asyncio
import gc
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

import looptime
import orjson

from harness import Figure, latency_figures, percentile, record, time_each

# isort: split
from feeds.factories import T0, Piece, api_fills, api_row, stream_fill, tx, wallet
from feeds.fake_api import FakeActivity, LoopClock
from polytail.config.schema import PollFeedSettings
from polytail.feeds.journal import MemoryJournal, StoreJournal
from polytail.feeds.merge import FillMerger, MergeCore
from polytail.feeds.poll import PollFeed, poll_rate
from polytail.feeds.seen import SeenSet, seen_key
from polytail.feeds.watchlist import WatchList
from polytail.store import Store
from polytail.venue.limits import RateLimiter
from polytail.venue.normalize.rtds import fill_from_payload, frame_payloads

UNITS = 1_000_000


def frame_of(piece: Piece) -> bytes:
    payload = {k: v for k, v in api_row(piece).items() if k not in ("type", "usdcSize")}
    return orjson.dumps({"topic": "activity", "type": "trades", "payload": payload})


def filter_figures() -> list[Figure]:
    figures: list[Figure] = []
    unwatched = frame_of(Piece(tx(1), wallet(10**9), "BUY", 5 * UNITS))
    for size in (10, 10_000, 100_000):
        watch = WatchList(wallet(n) for n in range(1, size + 1))
        live = watch.live

        def drop(live: set[str] = live) -> None:
            for payload in frame_payloads(unwatched):
                fill_from_payload(payload, watched=live)

        samples = time_each(drop, 20_000)
        figures.append(
            Figure(
                f"filter_unwatched_{size}_p50",
                round(percentile(samples, 50) / 1e3, 3),
                "us",
                f"{size} watched",
            )
        )
        figures.append(
            Figure(f"filter_unwatched_{size}_p99", round(percentile(samples, 99) / 1e3, 3), "us")
        )
    watched_frame = frame_of(Piece(tx(2), wallet(5), "BUY", 5 * UNITS))
    live = WatchList(wallet(n) for n in range(1, 100_001)).live

    def decode() -> None:
        for payload in frame_payloads(watched_frame):
            fill_from_payload(payload, watched=live)

    figures += latency_figures("filter_watched_decode", time_each(decode, 5_000))
    return figures


def bytes_per_entry(build: object, count: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build(count)  # type: ignore[operator]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return (after - before) / count


def memory_figures() -> list[Figure]:
    def watch_set(count: int) -> WatchList:
        return WatchList(wallet(n) for n in range(1, count + 1))

    def seen_set(count: int) -> SeenSet:
        seen = SeenSet(count)
        rng = random.Random(7)
        for _ in range(count):
            seen.add(seen_key("f" + f"{rng.getrandbits(124):031x}"), 1)
        return seen

    figures = []
    for count in (100_000, 1_000_000):
        figures.append(
            Figure(
                f"watch_set_{count}_bytes_per_wallet", round(bytes_per_entry(watch_set, count)), "B"
            )
        )
        figures.append(
            Figure(f"seen_set_{count}_bytes_per_fill", round(bytes_per_entry(seen_set, count)), "B")
        )
    return figures


def merge_figures() -> list[Figure]:
    figures: list[Figure] = []
    pieces = [Piece(tx(100 + n), wallet(1), "BUY", 5 * UNITS) for n in range(500)]
    page = api_fills(pieces)
    core = MergeCore(MemoryJournal(), SeenSet(1_000_000))
    core.merge(page)
    repeat = [page[0]]
    figures += latency_figures(
        "merge_repeat_sighting", time_each(lambda: core.triage(repeat), 50_000)
    )
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        journal = StoreJournal(store)
        pages = [
            api_fills(
                [Piece(tx(10_000 * (p + 1) + n), wallet(2), "BUY", 5 * UNITS) for n in range(500)]
            )
            for p in range(10)
        ]
        live = MergeCore(journal, SeenSet(1_000_000))
        start = time.perf_counter()
        for batch in pages:
            assert len(live.merge(batch).emitted) == 500
        elapsed = time.perf_counter() - start
        figures.append(
            Figure("merge_new_fills_sqlite", round(5_000 / elapsed), "fills/s", "pages of 500")
        )

        async def stream_one() -> list[float]:
            merger = FillMerger(journal, seen_capacity=1_000_000)
            samples = []
            for n in range(300):
                fill = stream_fill(Piece(tx(900_000 + n), wallet(3), "BUY", 5 * UNITS))
                begin = time.perf_counter_ns()
                await merger.submit([fill])
                samples.append(time.perf_counter_ns() - begin)
                merger.get_nowait()
            return samples

        figures += latency_figures("merge_stream_fill_sqlite", asyncio.run(stream_one()))
        store.close()
    return figures


def poll_figures() -> list[Figure]:
    requests, window = RateLimiter(share=0.9).budget("data.activity")
    settings = PollFeedSettings()
    rate = poll_rate(requests, window, settings.budget_share)
    figures = [Figure("poll_rate", round(rate, 2), "walks/s", "v1 activity, default shares")]
    for count in (25, 250, 2_500):
        delays, used = simulate_polling(count, rate, settings)
        bound = max(settings.min_interval_s, count / rate)
        figures += [
            Figure(f"poll_{count}_bound", round(bound, 2), "s", "N / rate (or min_interval)"),
            Figure(f"poll_{count}_delay_p50", round(percentile(delays, 50), 2), "s"),
            Figure(f"poll_{count}_delay_p99", round(percentile(delays, 99), 2), "s"),
            Figure(f"poll_{count}_walks_per_s", round(used, 2), "walks/s"),
        ]
    return figures


def simulate_polling(
    count: int, rate: float, settings: PollFeedSettings
) -> tuple[list[float], float]:
    """10 virtual minutes: a fifth of the wallets make four fifths of the fills."""
    rng = random.Random(count)
    wallets = [wallet(n) for n in range(1, count + 1)]
    active = wallets[: max(1, count // 5)]
    duration = 600.0

    async def run() -> tuple[list[float], float]:
        clock = LoopClock(T0)
        api = FakeActivity(clock, latency_s=0.1)
        merger = FillMerger(MemoryJournal(), clock=clock, in_thread=False)
        feed = PollFeed(api, merger, WatchList(wallets), settings, rate_per_s=rate, clock=clock)
        loop = asyncio.get_running_loop()
        visible: dict[str, float] = {}
        delays: list[float] = []
        merger.listen(lambda fill: delays.append(loop.time() - visible[fill.tx_hash or ""]))

        async def trader() -> None:
            number = 0
            while loop.time() < duration - 120:
                await asyncio.sleep(rng.expovariate(2.0))
                who = rng.choice(active) if rng.random() < 0.8 else rng.choice(wallets)
                number += 1
                piece = Piece(tx(number), who, "BUY", UNITS, timestamp=clock.now_ms() // 1000)
                api.trade(piece)
                visible[piece.tx] = loop.time()

        task = asyncio.create_task(feed.run())
        await asyncio.sleep(60)  # the first round over every wallet
        await trader()
        await asyncio.sleep(120)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert len(delays) == len(visible), "every fill is detected"
        return delays, len(api.calls) / loop.time()

    loop = looptime.new_event_loop(start=0)
    try:
        return loop.run_until_complete(run())
    finally:
        loop.close()


def main() -> None:
    figures = filter_figures() + memory_figures() + merge_figures() + poll_figures()
    record("feeds", figures)


if __name__ == "__main__":
    main()

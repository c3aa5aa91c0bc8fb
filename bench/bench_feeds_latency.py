"""Detection latency against the local exchange: from the exchange telling a trade (its
RTDS frame and Data API row exist) to the merged fill handed to the engine. Wall clock,
loopback, the real feeds and a SQLite store.

- stream: the RTDS feed alone, with the default 20 ms reorder window and with none (the
  window is the price of putting swapped frames back in order).
- poll: the Data API poller alone at its default settings (1 s for an active wallet), so
  the figure is mostly where in the polling interval the trade landed.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import Figure, latency_figures, record

# isort: split
from feeds.rig import feed_settings, running, token_of
from polytail.config.schema import StreamFeedSettings
from polytail.domain.fills import LeaderFill
from polytail.sim.scenarios import load
from polytail.sim.server import RunningSim, start_sim
from polytail.store import Store

LEADER = "0x" + "ab" * 20
DEFAULT_WINDOW = StreamFeedSettings().reorder_window_s


def watch_emissions(sim: RunningSim) -> dict[str, int]:
    """The monotonic time each transaction was first told (the exchange runs in-process)."""
    emitted: dict[str, int] = {}
    exchange = sim.exchange
    publish = exchange._publish_rtds

    def hooked(row: Any) -> None:
        emitted.setdefault(row.tx_hash, time.monotonic_ns())
        publish(row)

    exchange._publish_rtds = hooked  # type: ignore[method-assign]
    return emitted


async def measure(
    sim: RunningSim, folder: str, name: str, trades: int, **settings: Any
) -> list[float]:
    emitted = watch_emissions(sim)
    token = token_of(sim, "btc-above-150k-dec-31")
    rng = random.Random(1)
    store = Store.open(f"sqlite:///{Path(folder) / f'{name}.sqlite'}")
    delays: list[float] = []
    async with running(sim, store, [LEADER], feed_settings(**settings)) as rig:
        handed = asyncio.Event()
        latest: list[LeaderFill] = []

        def seen(fill: LeaderFill) -> None:
            latest.append(fill)
            handed.set()

        rig.feeds.merger.listen(seen)
        for _ in range(trades):
            handed.clear()
            await rig.admin("trade", LEADER, token, "BUY", shares="5", price="0.45")
            await handed.wait()
            fill = latest[-1]
            delays.append(fill.stamps.merged_ns - emitted[fill.tx_hash or ""])
            await asyncio.sleep(
                rng.uniform(0.05, 0.3) if name.startswith("stream") else rng.uniform(0.2, 1.2)
            )
    store.close()
    return delays


def main() -> None:
    scenario = load("synthetic", seed=21)
    scenario.background_interval = 0
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as folder, start_sim(scenario) as sim:
        runs = {
            "stream": {"poll": False, "tune": {"stream": {"reorder_window_s": DEFAULT_WINDOW}}},
            "stream_no_window": {"poll": False, "tune": {"stream": {"reorder_window_s": 0}}},
            "poll": {
                "stream": False,
                "tune": {"poll": {"min_interval_s": 1.0, "max_interval_s": 60.0}},
            },
        }
        for name, settings in runs.items():
            trades = 30 if name == "poll" else 100
            delays = asyncio.run(measure(sim, folder, name, trades, **settings))
            figures += latency_figures(f"detect_{name}", delays, unit="ms")
    record("feeds_latency", figures)


if __name__ == "__main__":
    main()

"""`python -m polytail.engine --config FILE`: run one engine in the foreground.

A minimal entry point for subprocess tests (the crash test kills it with SIGKILL) and for
debugging. Leader fills come from polling the Data API activity of the configured leaders
(`engine.sources.poll_activity`); the feeds layer and `polytail run` (supervision, web,
notifications) wrap the same `runtime` later. Prints `ready` once reconciliation is done.
SIGTERM or SIGINT shuts down gracefully.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path

from polytail.config.load import load_config
from polytail.config.schema import Mode
from polytail.config.secrets import load_secrets
from polytail.domain.ids import address
from polytail.engine.runtime import build_live, build_paper
from polytail.engine.sources import poll_activity
from polytail.venue.clients import VenueClients


async def main(config_path: Path, since: int, poll_s: float) -> None:
    config = load_config(config_path, use_default_file=False)
    venue = VenueClients.from_settings(config.venue)
    leaders = [address(leader.address) for leader in config.leaders if leader.enabled]
    fills = poll_activity(venue.data_v1, leaders, start_s=since, interval_s=poll_s)
    if config.mode is Mode.LIVE:
        engine = await build_live(config, load_secrets(config), fills=fills, venue=venue)
    else:
        engine = await build_paper(config, fills=fills, venue=venue)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    async def announce() -> None:
        await engine.ready.wait()
        sys.stdout.write("ready\n")
        sys.stdout.flush()

    announcer = asyncio.create_task(announce())
    await engine.run(stop)
    announcer.cancel()


def run() -> None:
    parser = argparse.ArgumentParser(prog="python -m polytail.engine")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--since", type=int, default=None, help="first leader fill (Unix s)")
    parser.add_argument("--poll", type=float, default=1.0, help="activity poll interval (s)")
    args = parser.parse_args()
    since = args.since if args.since is not None else int(time.time())
    asyncio.run(main(args.config, since, args.poll))


if __name__ == "__main__":
    run()

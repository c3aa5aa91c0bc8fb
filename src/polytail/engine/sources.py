"""Leader-fill sources the engine can run from until (and besides) the feeds layer.

`poll_activity` walks each leader's Data API activity from a start time and yields every
fill it has not yielded before in this process. It is at-least-once across restarts by
design: the pipeline drops a fill it has already decided, so a re-delivery after a crash
is harmless, and nothing is lost between a sighting and its decision.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import structlog

from polytail.domain.fills import LeaderFill
from polytail.domain.ids import Address, FillId
from polytail.venue.data_api import DataApiV1

log = structlog.get_logger(__name__)


async def poll_activity(
    data: DataApiV1,
    leaders: Sequence[Address],
    *,
    start_s: int,
    interval_s: float = 1.0,
) -> AsyncIterator[LeaderFill]:
    seen: set[FillId] = set()
    while True:
        for leader in leaders:
            try:
                walk = await data.activity_fills(leader, start=start_s)
            except Exception as error:  # a failed poll is retried next round
                log.warning("activity poll failed", leader=leader, error=str(error))
                continue
            for fill in sorted(walk.batch.fills, key=lambda f: (f.timestamp, f.fill_id)):
                if fill.fill_id not in seen:
                    seen.add(fill.fill_id)
                    yield fill
        await asyncio.sleep(interval_s)

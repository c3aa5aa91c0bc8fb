"""Reading one wallet's Data API activity over a time window, for the poller and backfill.

Windows are closed at the start and open at the end (`start` inclusive, no `end`): a
transaction's rows share one timestamp, so a window always holds a transaction whole, and
rows the venue indexes late (4-20 s) are still inside the next window as long as it
starts before them. A walk that hits the v1 offset cap reports `truncated`; the rows up
to its newest timestamp are complete except possibly that second itself, so the next walk
starts *at* that second (inclusive) and re-reads it: the repeated rows get the same ids.
"""

from __future__ import annotations

from typing import Protocol

import structlog

from polytail.domain.fills import FeedSource
from polytail.domain.ids import Address
from polytail.venue.data_api import Walk

log = structlog.get_logger("polytail.feeds")


class ActivityApi(Protocol):
    """What the feeds need of `venue.data_api.DataApiV1` / `DataApiV2`."""

    async def activity_fills(
        self,
        user: Address,
        *,
        start: int,
        end: int | None = None,
        page_size: int = 500,
        source: FeedSource = FeedSource.POLL,
        received_ns: int = 0,
    ) -> Walk: ...


def newest(walk: Walk) -> int | None:
    """The newest venue timestamp among the walk's fills (None when it had none)."""
    return max((fill.timestamp for fill in walk.batch.fills), default=None)


def next_start(walk: Walk, start: int, wallet: str) -> int:
    """Where to continue after a truncated walk: at its newest second, inclusive."""
    latest = newest(walk)
    if latest is None or latest <= start:
        # More than the offset cap in one second: v1 cannot page past it. Skip that
        # second rather than loop forever, and say so (v2 pages by cursor, no cap).
        log.error(
            "activity walk cannot page past the v1 offset cap within one second; rows may "
            "be missing: poll with feeds.poll.api = 'v2'",
            wallet=wallet,
            second=start,
        )
        return start + 1
    return latest

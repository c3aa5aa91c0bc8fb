"""Data API `/trades` rows (v1 camelCase, v2 snake_case) → `LeaderFill`.

A trades row is an activity row without `type` and `usdcSize`; the notional is then
shares x price (half-even). The shared converter lives in `activity`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from polytail.domain.fills import FeedSource
from polytail.venue.normalize.activity import trade_row
from polytail.venue.normalize.common import Normalized, run_batch


def trades_batch(
    rows: Iterable[Any],
    *,
    source: FeedSource = FeedSource.POLL,
    received_ns: int = 0,
    origin: str = "data-api trades",
) -> Normalized:
    """One `/trades` (or `/v2/trades`) page walk."""
    return run_batch(
        rows,
        lambda row, occ: trade_row(row, occ, origin=origin, source=source, received_ns=received_ns),
    )

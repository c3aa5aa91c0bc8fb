"""RTDS `activity/trades` frames → `LeaderFill` (occurrence 0: one frame, one fill).

Documented envelope: `{"topic": "activity", "type": "trades", "timestamp": ms,
"payload": {...}}`. Live frames have been seen without `topic`/`type` (UNCERTAIN), so a
frame is recognised by its payload: a trade has `transactionHash` and `proxyWallet`.
The wallet filter runs on the raw payload, before any parsing, so frames of wallets
nobody watches cost one dict lookup and one set lookup.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import orjson

from polytail.domain.fills import FeedSource, LeaderFill
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.activity import trade_row
from polytail.venue.normalize.common import SINGLE, Ignored

ORIGIN = "rtds activity"


def frame_payloads(raw: str | bytes) -> list[dict[str, Any]]:
    """The trade payloads in one websocket message (an object or an array of them)."""
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise MalformedRow(ORIGIN, "frame", f"is not JSON: {raw[:80]!r}", raw) from None
    frames = decoded if isinstance(decoded, list) else [decoded]
    payloads: list[dict[str, Any]] = []
    for frame in frames:
        if not isinstance(frame, dict):
            continue
        payload = frame.get("payload")
        if isinstance(payload, dict) and "proxyWallet" in payload:
            payloads.append(payload)
    return payloads


def fill_from_payload(
    payload: dict[str, Any],
    *,
    watched: Collection[str] | None = None,
    received_ns: int = 0,
) -> LeaderFill | Ignored:
    """One payload to a fill; wallets outside `watched` (lowercase) are `Ignored`."""
    if watched is not None:
        wallet = payload.get("proxyWallet")
        if not isinstance(wallet, str) or wallet.lower() not in watched:
            return Ignored("unwatched")
    return trade_row(
        payload, SINGLE, origin=ORIGIN, source=FeedSource.STREAM, received_ns=received_ns
    )

"""RTDS frames become stream fills; unwatched wallets cost a set lookup and are ignored."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from polytail.domain.fills import FeedSource
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.activity import activity_batch
from polytail.venue.normalize.common import Ignored
from polytail.venue.normalize.rtds import fill_from_payload, frame_payloads


def frame_of(trade: dict[str, Any], *, envelope: bool = True) -> bytes:
    payload = {k: trade[k] for k in trade if k not in ("type", "usdcSize")}
    if not envelope:
        return orjson.dumps({"payload": payload})
    return orjson.dumps(
        {"topic": "activity", "type": "trades", "timestamp": 1777091978000, "payload": payload}
    )


def test_a_frame_gives_the_same_fill_id_as_the_api_row(load_json: Any) -> None:
    row = load_json("pscanner/activity.json")[0]
    (payload,) = frame_payloads(frame_of(row))

    fill = fill_from_payload(payload, watched={row["proxyWallet"]}, received_ns=42)
    (api,), _, _ = activity_batch([row])

    assert not isinstance(fill, Ignored)
    assert fill.fill_id == api.fill_id  # occurrence 0: one frame, one fill
    assert fill.source is FeedSource.STREAM and fill.stamps.received_ns == 42
    assert fill.size == api.size and fill.price == api.price


def test_frames_without_topic_and_arrays_of_frames_are_read(load_json: Any) -> None:
    rows = load_json("pscanner/activity.json")[:2]
    array = b"[" + frame_of(rows[0], envelope=False) + b"," + frame_of(rows[1]) + b"]"
    assert len(frame_payloads(array)) == 2
    assert frame_payloads(b'{"topic": "activity", "type": "ping"}') == []


def test_unwatched_wallets_are_ignored_before_parsing(load_json: Any) -> None:
    (payload,) = frame_payloads(frame_of(load_json("pscanner/activity.json")[0]))
    broken = {**payload, "price": "garbage"}
    assert fill_from_payload(broken, watched={"0x" + "0" * 40}) == Ignored("unwatched")


def test_a_frame_that_is_not_json_is_a_named_error() -> None:
    with pytest.raises(MalformedRow) as caught:
        frame_payloads(b"{not json")
    assert caught.value.field == "frame"

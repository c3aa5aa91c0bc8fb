"""Leader-fill decode throughput: Data API activity rows and RTDS frames → `LeaderFill`.

This is the first step of the hot path (a leader trades → we see a fill). Rows are the
real recorded `/activity` rows (pscanner/activity.json), re-serialised so each decode
starts from bytes, as it does off the wire. Each figure covers JSON parsing, exact
number parsing, id validation and the fill id digest.
"""

from __future__ import annotations

import json
import time

import orjson

from harness import Figure, latency_figures, rate, record, shared_data, time_each
from polytail.venue.normalize.activity import activity_batch
from polytail.venue.normalize.rtds import fill_from_payload, frame_payloads


def main() -> None:
    rows = json.loads((shared_data() / "pscanner" / "activity.json").read_text())
    page = orjson.dumps(rows * 50)  # one 500-row page, the size the poller asks for
    frames = [
        orjson.dumps(
            {
                "topic": "activity",
                "type": "trades",
                "timestamp": row["timestamp"] * 1000,
                "payload": {k: v for k, v in row.items() if k not in ("type", "usdcSize")},
            }
        )
        for row in rows
    ]
    watched = {rows[0]["proxyWallet"]}
    unwatched: set[str] = {"0x" + "0" * 40}

    def decode_page() -> None:
        batch = activity_batch(orjson.loads(page))
        assert len(batch.fills) == 500

    def decode_frames(wallets: set[str]) -> None:
        for frame in frames:
            for payload in frame_payloads(frame):
                fill_from_payload(payload, watched=wallets, received_ns=time.monotonic_ns())

    pages_per_s = rate(decode_page, batch=2, seconds=2.0)
    frames_watched = rate(lambda: decode_frames(watched), batch=50, seconds=2.0) * len(frames)
    frames_skipped = rate(lambda: decode_frames(unwatched), batch=200, seconds=2.0) * len(frames)
    per_frame = time_each(lambda: decode_frames(watched), repeat=2000)

    record(
        "decode",
        [
            Figure("activity_rows_per_s", round(pages_per_s * 500), "rows/s", "500-row pages"),
            Figure("rtds_watched_frames_per_s", round(frames_watched), "frames/s", "decoded"),
            Figure(
                "rtds_unwatched_frames_per_s",
                round(frames_skipped),
                "frames/s",
                "filtered by wallet before decoding",
            ),
            *latency_figures("rtds_10_frames", per_frame, "us"),
        ],
    )


if __name__ == "__main__":
    main()

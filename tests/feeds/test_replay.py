"""Replays of recorded files: every format, real histories, exactly the unique fills."""

from __future__ import annotations

import csv
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from polytail.domain.fills import FeedSource, Side
from polytail.domain.money import Rounding, Shares, Usdc
from polytail.feeds.formats import contiguous_runs
from polytail.feeds.journal import MemoryJournal
from polytail.feeds.merge import FillMerger
from polytail.feeds.replay import ReplayFeed, fill_record, replay_files

from .factories import COUNTERPARTY, log_of
from .factories import Piece as _Piece

AMY = "0xee50a31c3f5a7c77824b12a941a54388a2827ed6"
KCH = "0x6a72f61820b26b1fe4d956e17b6dc2a1ea3033ee"


def write(path: Path, content: Any) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else orjson.dumps(content))
    return path


def test_insider_amy_trades_yield_exactly_the_3500_unique_fills(shared_data: Path) -> None:
    path = shared_data / "Insider_Amy/trades.json"
    result = replay_files([path])
    assert result.clean and len(result.fills) == 3_500
    assert Counter(f.side for f in result.fills) == {Side.BUY: 3_403, Side.SELL: 97}
    assert {f.wallet for f in result.fills} == {AMY}
    assert len({f.fill_id for f in result.fills}) == 3_500
    per_tx = Counter(f.tx_hash for f in result.fills)
    assert len(per_tx) == 3_494 and sorted(per_tx.values())[-6:] == [2] * 6  # never by tx
    timestamps = [f.timestamp for f in result.fills]
    assert timestamps == sorted(timestamps)  # venue-time order (the file is newest first)
    (pope,) = [
        f
        for f in result.fills
        if f.tx_hash == "0xc10a94b9ddc24e0fd12f5f66f5c42ecba0ce7730e3af6616d6214c377890a37f"
    ]
    assert (pope.side, pope.size, pope.price) == (
        Side.BUY,
        Shares.parse("31683.87"),
        Decimal("0.54"),
    )
    assert pope.usdc == Usdc.parse("17109.2898") and pope.outcome_index == 1
    assert (pope.outcome, pope.timestamp, pope.source) == ("No", 1764816217, FeedSource.REPLAY)
    assert replay_files([path, path]).fills == result.fills  # a second copy adds nothing


def test_pscanner_activity_and_polymarket_cli_trades(shared_data: Path) -> None:
    result = replay_files(
        [shared_data / "pscanner/activity.json", shared_data / "polymarket-cli/trades.json"]
    )
    assert len(result.fills) == 13 and [f.kind for f in result.files] == ["activity", "trades"]
    kch = [f for f in result.fills if f.wallet == KCH]
    assert len(kch) == 10 and all(f.side is Side.BUY for f in kch)
    first = next(f for f in kch if f.price == Decimal("0.860000001148"))
    assert (first.size, first.usdc) == (Shares.parse("714.285713"), Usdc.parse("614.285714"))
    only = replay_files(
        [shared_data / "polymarket-cli/trades.json"], ["0x9FB96C5CF2027D0CE8E0E92FC30B52E81F001866"]
    )
    assert [f.size for f in only.fills] == [Shares.parse("3.28888")]


def v2_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "proxy_wallet": row["proxyWallet"],
        "token_id": row["asset"],
        "condition_id": row["conditionId"],
        "side": row["side"],
        "size": row["size"],
        "price": row["price"],
        "timestamp": row["timestamp"],
        "transaction_hash": row["transactionHash"],
        "outcome": row["outcome"],
        "outcome_index": row["outcomeIndex"],
        "slug": row["slug"],
        "event_slug": row["eventSlug"],
    }


def test_v1_v2_and_csv_shapes_of_the_same_rows_give_the_same_fills(
    shared_data: Path, load_json: Any, tmp_path: Path
) -> None:
    rows = load_json("Insider_Amy/trades.json")[:300]
    v1 = replay_files([write(tmp_path / "v1.json", rows)])
    envelope = {
        "data": [v2_row(r) for r in rows],
        "pagination": {"has_more": False, "next_cursor": None},
    }
    v2 = replay_files([write(tmp_path / "v2.json", envelope)])
    with (tmp_path / "export.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    exported = replay_files([tmp_path / "export.csv"])
    assert [f.kind for f in (*v1.files, *v2.files, *exported.files)] == [
        "trades",
        "trades (v2 envelope)",
        "trades (csv)",
    ]
    assert len(v1.fills) == 300
    assert v2.fills == v1.fills and exported.fills == v1.fills
    merged = replay_files([tmp_path / "v1.json", tmp_path / "v2.json", tmp_path / "export.csv"])
    assert merged.fills == v1.fills and merged.duplicates == 600


def test_activity_rows_that_are_not_trades_are_counted_never_filled(tmp_path: Path) -> None:
    trade = {
        "proxyWallet": KCH,
        "timestamp": 1777091978,
        "type": "TRADE",
        "size": 10,
        "usdcSize": 5,
        "transactionHash": "0x" + "1" * 64,
        "price": 0.5,
        "asset": "1234",
        "side": "BUY",
        "outcomeIndex": 0,
    }
    others = [
        {**trade, "type": kind, "asset": "", "side": "", "outcomeIndex": 999, "price": 0}
        for kind in ("REDEEM", "MERGE", "SPLIT", "CONVERSION", "REWARD", "MAKER_REBATE")
    ]
    result = replay_files([write(tmp_path / "activity.json", [trade, *others])])
    assert result.clean and len(result.fills) == 1
    assert sum(result.ignored.values()) == 6


def test_a_page_fetched_twice_is_merged_but_identical_rows_side_by_side_are_two_fills(
    load_json: Any, tmp_path: Path
) -> None:
    rows = load_json("Insider_Amy/trades.json")[:100]
    repeated = replay_files([write(tmp_path / "pages.json", rows + rows[50:])])
    assert len(repeated.fills) == 100
    twin = {**rows[0]}
    doubled = replay_files([write(tmp_path / "twins.json", [rows[0], twin, *rows[1:10]])])
    assert len(doubled.fills) == 11
    assert len(contiguous_runs([*rows[:3], *rows[:3]])) == 2


def pscanner_logs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each activity row as the maker event the chain would have emitted for it."""
    logs = []
    for index, row in enumerate(rows):
        piece = _Piece(
            tx=row["transactionHash"],
            wallet=row["proxyWallet"],
            side=row["side"],
            shares=Shares.parse(Decimal(repr(row["size"])), Rounding.HALF_EVEN).units,
            timestamp=row["timestamp"],
            token=row["asset"],
        )
        log = log_of(piece, log_index=index, block=1000 + index, taker=COUNTERPARTY)
        usdc = Usdc.parse(Decimal(repr(row["usdcSize"])), Rounding.HALF_EVEN).units
        log["data"] = log["data"][: 2 + 64 * 2] + f"{usdc:064x}" + log["data"][2 + 64 * 3 :]
        logs.append(log)
    return logs


def test_logs_as_an_array_or_a_json_rpc_response_merge_with_the_api_rows(
    shared_data: Path, load_json: Any, tmp_path: Path
) -> None:
    rows = load_json("pscanner/activity.json")
    logs = pscanner_logs(rows)
    array = write(tmp_path / "logs.json", logs)
    rpc = write(tmp_path / "rpc.json", {"jsonrpc": "2.0", "id": 1, "result": logs + logs[:3]})
    chain_only = replay_files([array])
    assert [f.kind for f in chain_only.files] == ["logs"] and len(chain_only.fills) == 10
    assert all(f.log_index is not None for f in chain_only.fills)
    assert replay_files([rpc]).fills == chain_only.fills  # a log listed twice is one event
    api = shared_data / "pscanner/activity.json"
    both = replay_files([rpc, api])
    assert len(both.fills) == 10 and both.files[0].kind == "logs (json-rpc)"
    api_first = replay_files([api, array])
    assert {f.fill_id for f in api_first.fills} == {f.fill_id for f in chain_only.fills}
    assert api_first.absorbed == 0 and api_first.duplicates == 10  # enriched, not copied


def test_rtds_frames_as_json_lines_or_an_array(load_json: Any, tmp_path: Path) -> None:
    rows = load_json("pscanner/activity.json")
    frames = [
        {"topic": "activity", "type": "trades", "timestamp": r["timestamp"] * 1000, "payload": r}
        for r in rows
    ]
    lines = b"\n".join(orjson.dumps(frame) for frame in [*frames, frames[0], {"type": "pong"}])
    as_lines = replay_files([write(tmp_path / "frames.jsonl", lines + b"\n")])
    as_array = replay_files([write(tmp_path / "frames.json", frames)])
    assert len(as_lines.fills) == 10 and as_lines.files[0].kind == "rtds (json lines)"
    assert as_lines.files[0].ignored == {"not_a_trade_frame": 1}
    assert as_array.fills == as_lines.fills
    only = replay_files([tmp_path / "frames.json"], [KCH.upper().replace("0X", "0x")])
    assert len(only.fills) == 10
    assert replay_files([tmp_path / "frames.json"], ["0x" + "5" * 40]).fills == []


def test_bad_rows_and_unreadable_files_are_reported_and_the_rest_replayed(
    load_json: Any, tmp_path: Path
) -> None:
    rows = load_json("pscanner/activity.json")
    broken_row = {**rows[1], "price": "abc"}
    result = replay_files(
        [
            write(tmp_path / "some.json", [rows[0], broken_row, rows[2]]),
            write(tmp_path / "empty.json", b""),
            write(tmp_path / "notes.txt", b"just some words\nand more\n"),
        ]
    )
    assert len(result.fills) == 2 and not result.clean
    ((path, error),) = result.rejects
    assert path.name == "some.json" and error.field == "price" and "abc" in str(error)
    assert [str(path.name) for path, _ in result.broken] == ["empty.json", "notes.txt"]
    assert "empty" in result.broken[0][1] and "cannot tell the format" in result.broken[1][1]


def test_the_json_form_of_a_fill_has_exact_decimal_strings(shared_data: Path) -> None:
    result = replay_files([shared_data / "pscanner/activity.json"])
    record = fill_record(result.fills[0])
    assert set(record) >= {
        "fill_id", "wallet", "side", "token_id", "condition_id", "outcome_index", "price",
        "size", "usdc", "timestamp", "tx_hash", "log_index", "source",
    }  # fmt: skip
    assert isinstance(record["price"], str) and isinstance(record["size"], str)
    assert json.loads(json.dumps(record)) == record


async def test_the_replay_feed_submits_the_same_fills_to_a_live_merger(shared_data: Path) -> None:
    amy = shared_data / "Insider_Amy/trades.json"
    merger = FillMerger(MemoryJournal(), in_thread=False)
    feed = ReplayFeed([amy, amy], merger, [AMY])
    assert await feed.run() == 3_500
    handed = [merger.get_nowait() for _ in range(merger.pending())]
    assert [f.fill_id for f in handed] == [f.fill_id for f in replay_files([amy]).fills]

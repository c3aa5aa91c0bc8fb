"""`polytail feeds replay`: JSON lines on stdout, rejects on stderr, exit code says which."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from tests.cli.test_cli import polytail

REQUIRED = {
    "fill_id", "wallet", "side", "token_id", "condition_id", "outcome_index", "price", "size",
    "usdc", "timestamp", "tx_hash", "log_index", "source",
}  # fmt: skip


def test_replay_prints_one_json_line_per_unique_fill(shared_data: Path, tmp_path: Path) -> None:
    amy = shared_data / "Insider_Amy/trades.json"
    result = polytail("feeds", "replay", str(amy), str(amy), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3_500 and len({line["fill_id"] for line in lines}) == 3_500
    assert all(set(line) >= REQUIRED for line in lines)
    assert sum(line["side"] == "SELL" for line in lines) == 97
    first = lines[0]
    assert first["wallet"] == first["wallet"].lower() and first["source"] == "replay"
    assert isinstance(first["price"], str) and isinstance(first["timestamp"], int)


def test_rejected_rows_go_to_stderr_and_set_exit_code_1(load_json: Any, tmp_path: Path) -> None:
    rows = load_json("pscanner/activity.json")
    path = tmp_path / "activity.json"
    path.write_bytes(orjson.dumps([rows[0], {**rows[1], "side": "HOLD"}]))
    result = polytail("feeds", "replay", str(path), "--json", cwd=tmp_path)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1
    assert "rejected a row of" in result.stderr and "'side'" in result.stderr
    assert "HOLD" in result.stderr


def test_wallet_filter_table_output_and_bad_arguments(shared_data: Path, tmp_path: Path) -> None:
    trades = str(shared_data / "polymarket-cli/trades.json")
    wallet = "0x9FB96C5CF2027D0CE8E0E92FC30B52E81F001866"
    only = polytail("feeds", "replay", trades, "--wallet", wallet, "--json", cwd=tmp_path)
    assert only.returncode == 0
    assert [json.loads(line)["wallet"] for line in only.stdout.splitlines()] == [wallet.lower()]
    table = polytail("feeds", "replay", trades, cwd=tmp_path)
    assert table.returncode == 0 and "3 unique fills" in table.stdout
    bad = polytail("feeds", "replay", trades, "--wallet", "0x12", cwd=tmp_path)
    assert bad.returncode == 2 and "not an address" in bad.stderr
    missing = polytail("feeds", "replay", str(tmp_path / "nope.json"), cwd=tmp_path)
    assert missing.returncode == 1 and "cannot read" in missing.stderr

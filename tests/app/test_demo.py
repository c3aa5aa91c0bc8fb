"""`polytail demo`: offline, no config file, and the leaders' trades are copied."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path


def test_demo_with_duration_and_json_prints_a_summary_with_copies(tmp_path: Path) -> None:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("POLYTAIL_")}
    # speed 8: six seconds of demo are forty-eight of the scenario's (three leaders trade)
    result = subprocess.run(
        [sys.executable, "-m", "polytail", "demo", "--duration", "6", "--speed", "8", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no polytail.toml here: the demo needs none
        env=clean,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)  # stdout is the JSON and nothing else
    assert summary["mode"] == "paper"
    assert summary["copies"] > 0
    assert summary["fills_seen"] >= summary["copies"] + sum(summary["skips"].values()) > 0
    assert summary["orders"] and set(summary["orders"]) <= {"MATCHED", "CANCELED", "REJECTED"}
    assert sum(summary["orders"].values()) == summary["copies"]  # one order per copy
    assert summary["positions"], "copies were made, so something is held"
    for position in summary["positions"]:
        assert Decimal(position["shares"]) > 0 and Decimal(position["cost"]) > 0
    pnl = summary["pnl"]
    assert Decimal(pnl["total"]) == Decimal(pnl["realized"]) + Decimal(pnl["unrealized"])
    # the ledger balances: equity is the starting cash plus every gain and loss
    assert Decimal(summary["equity"]) == Decimal(1000) + Decimal(pnl["total"])
    assert Decimal(summary["cash"]) < Decimal(summary["equity"])
    assert not list(tmp_path.iterdir()), "the demo keeps its data in a temporary folder"

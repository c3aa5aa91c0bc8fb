"""`polytail demo`: offline, no config file, and the leaders' trades are copied."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from polytail.app.demo import DemoRecorder
from polytail.domain.decisions import ReasonCode
from polytail.domain.orders import OrderState
from polytail.engine.events import DecisionMade, FillDetected, OrderUpdated
from tests.support.samples import T0, copy_decision, fill, matched, order_for, skip_decision


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


def test_the_recorder_is_settled_only_with_no_fill_undecided_and_no_order_in_flight() -> None:
    """The demo's summary waits for `settled`: a fill merged but not yet decided, or an
    order still being filled, would make it count a copy its money does not show yet."""
    recorder = DemoRecorder()
    assert recorder.settled.is_set()  # nothing has happened

    detected = fill(1)
    recorder.on_event(FillDetected(fill=detected, at_ms=T0, detection_ms=None))
    assert not recorder.settled.is_set()  # merged, not decided

    decision = copy_decision(detected)
    recorder.on_event(DecisionMade(decision))
    pending = order_for(decision)
    recorder.on_event(OrderUpdated(pending, previous=None))
    assert not recorder.settled.is_set()  # decided, its order PENDING

    done = matched(pending)
    recorder.on_event(OrderUpdated(done, previous=OrderState.SENT))
    assert recorder.settled.is_set()

    skipped = fill(2)
    recorder.on_event(FillDetected(fill=skipped, at_ms=T0, detection_ms=None))
    assert not recorder.settled.is_set()
    recorder.on_event(DecisionMade(skip_decision(skipped, ReasonCode.FILTER_PRICE_BAND)))
    assert recorder.settled.is_set()  # a skip sends nothing
    assert (recorder.fills_seen, recorder.copies, dict(recorder.skips)) == (
        2,
        1,
        {"filter_price_band": 1},
    )

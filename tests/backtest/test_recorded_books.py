"""Fills against recorded books: a copy is filled by the paper broker's walk of the real
snapshot (resolvedkit, BTC 15-minute markets) in force when it reaches the market; with
more latency, a later snapshot. Checked against a walk done by hand from the parquet."""

from __future__ import annotations

import json
import math
from decimal import ROUND_CEILING, Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from polytail.backtest.inputs import load_inputs
from polytail.backtest.report import build
from polytail.backtest.runner import run_backtest
from polytail.backtest.settings import BacktestSettings
from tests.backtest.support import LEADER, write

DOWN_TOKEN = "902"


def scenario(shared_data: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A market and two DOWN snapshots at least 5 s apart, both with asks."""
    markets = pq.read_table(shared_data / "resolvedkit" / "markets.parquet").to_pylist()
    books = pq.read_table(shared_data / "resolvedkit" / "books.parquet").to_pylist()
    for market in markets:
        downs = sorted(
            (
                row
                for row in books
                if row["market_id"] == market["market_id"]
                and row["side"] == "DOWN"
                and row["ask_px"]
            ),
            key=lambda row: row["ts"],
        )
        for first, second in pairwise(downs):
            if (
                5_000 <= second["ts"] - first["ts"] <= 30_000
                and first["ask_px"] != second["ask_px"]
            ):
                return market, [first, second]
    raise AssertionError("no suitable snapshots in the resolvedkit sample")


def files(tmp_path: Path, market: dict[str, Any], at_s: int, price: str) -> tuple[Path, Path]:
    condition = market["market_id"]
    gamma = {
        "conditionId": condition,
        "question": market["question"],
        "slug": market["slug"],
        "outcomes": json.dumps(["Up", "Down"]),
        "clobTokenIds": json.dumps(["901", DOWN_TOKEN]),  # the sample has no token ids
        "orderPriceMinTickSize": 0.01,
        "orderMinSize": 5,
        "endDate": "2030-01-01T00:00:00Z",
        "closed": True,
        "umaResolutionStatus": "resolved",
        "outcomePrices": json.dumps(
            ["1", "0"] if market["payout_up"] >= market["payout_down"] else ["0", "1"]
        ),
    }
    row = {
        "proxyWallet": LEADER,
        "side": "BUY",
        "asset": DOWN_TOKEN,
        "conditionId": condition,
        "size": 20,
        "price": float(price),
        "timestamp": at_s,
        "outcomeIndex": 1,
        "transactionHash": "0x" + "ab" * 32,
    }
    return write(tmp_path / "fills.json", [row]), write(tmp_path / "markets.json", [gamma])


def walked(snapshot: dict[str, Any], shares: Decimal) -> Decimal:
    """Take `shares` from the snapshot's asks, best first, each level rounded up."""
    left, paid = shares, Decimal(0)
    for price, size in zip(snapshot["ask_px"], snapshot["ask_sz"], strict=False):
        take = min(left, Decimal(repr(size)))
        paid += (take * Decimal(repr(price))).quantize(Decimal("0.000001"), ROUND_CEILING)
        left -= take
        if left <= 0:
            break
    return paid


def test_a_copy_walks_the_snapshot_in_force_when_it_arrives(
    shared_data: Path, tmp_path: Path
) -> None:
    market, (first, second) = scenario(shared_data)
    at_s = math.ceil(first["ts"] / 1000)
    assert at_s * 1000 < second["ts"]
    fills, markets = files(tmp_path, market, at_s, str(first["ask_px"][0]))
    books = shared_data / "resolvedkit" / "books.parquet"
    for latency_ms, snapshot in ((0, first), (second["ts"] - at_s * 1000, second)):
        inputs = load_inputs([fills], [markets], [books])
        settings = BacktestSettings(latency_ms=latency_ms, slippage_bps=500, ratio=Decimal(1))
        report = build(run_backtest(inputs, settings))
        (copy,) = report.record.copies.values()
        assert copy.copied, copy.outcome
        assert copy.notional == walked(snapshot, copy.shares)
        assert report.record.books_served["recorded"] >= 1
        assert report.record.books_served["model"] == 0  # the price model was not needed

"""Backtest throughput: the engine replaying 3,500 real fills and 100,000 synthetic ones.

- Insider_Amy (3,500 recorded trades, 59 markets): reading the files (replay feed +
  catalog), then the replay on the ideal venue (every fill copied: the most engine work
  per fill) and on the real venue with the default caps and a 1,000 pUSD account.
- 100,000 synthetic fills (seeded: 5 leaders, 400 markets, buys and mirrored sales,
  prices drifting on the tick) written as a Data API `/trades` file and replayed on the
  ideal venue at ratio 1, so each fill goes through the whole pipeline.
- Where the time goes: a profile of 10,000 synthetic fills, exclusive time per layer.

Figures: seconds, fills per second, and peak memory.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import random
import tempfile
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from harness import Figure, max_rss_mib, record, shared_data
from polytail.app.logs import configure_logging
from polytail.backtest.inputs import load_inputs
from polytail.backtest.report import build
from polytail.backtest.runner import Inputs, run_backtest
from polytail.backtest.settings import BacktestSettings

SEED = 9
SYNTHETIC = 100_000
PROFILED = 10_000
LEADERS = [f"0x{i:040x}" for i in range(1, 6)]
MARKETS = 400
T0 = 1_760_000_000
IDEAL = BacktestSettings(latency_ms=2_000, slippage_bps=50, ratio=Decimal(1), caps=False)
REAL = BacktestSettings(latency_ms=2_000, slippage_bps=50, ratio=Decimal("0.01"))
LAYERS = (
    ("store (SQLAlchemy, SQLite)", ("polytail/store/", "sqlalchemy/", "sqlite3")),
    ("policy", ("polytail/policy/",)),
    ("ledger", ("polytail/portfolio/",)),
    ("execution", ("polytail/execution/",)),
    ("engine pipeline", ("polytail/engine/",)),
    ("domain", ("polytail/domain/",)),
    ("backtest (this layer)", ("polytail/backtest/",)),
)


def synthetic(count: int, folder: Path) -> tuple[Path, Path]:
    """A seeded history in the venue's formats: `/trades` rows and Gamma markets."""
    rng = random.Random(SEED)
    mids = {m: rng.randint(10, 90) for m in range(MARKETS)}
    held: dict[tuple[str, int], float] = defaultdict(float)
    rows = []
    for index in range(count):
        wallet = LEADERS[rng.randrange(len(LEADERS))]
        market = rng.randrange(MARKETS)
        mids[market] = min(98, max(2, mids[market] + rng.choice((-1, 0, 0, 1))))
        key = (wallet, market)
        if held[key] > 50 and rng.random() < 0.15:
            side, size = "SELL", round(held[key] * rng.uniform(0.1, 0.6), 2)
            held[key] -= size
        else:
            side, size = "BUY", round(rng.uniform(5, 500), 2)
            held[key] += size
        rows.append(
            {
                "proxyWallet": wallet,
                "side": side,
                "asset": str(10**70 + 2 * market),
                "conditionId": f"0x{market:064x}",
                "size": size,
                "price": mids[market] / 100,
                "timestamp": T0 + index * 20,
                "outcomeIndex": 0,
                "transactionHash": f"0x{index + 1:064x}",
            }
        )
    markets = [
        {
            "conditionId": f"0x{m:064x}",
            "outcomes": json.dumps(["Yes", "No"]),
            "clobTokenIds": json.dumps([str(10**70 + 2 * m), str(10**70 + 2 * m + 1)]),
            "orderPriceMinTickSize": 0.01,
            "orderMinSize": 5,
            "endDate": "2030-01-01T00:00:00Z",
            "closed": True,
            "umaResolutionStatus": "resolved",
            "outcomePrices": json.dumps(["1", "0"] if m % 2 else ["0", "1"]),
        }
        for m in range(MARKETS)
    ]
    fills, meta = folder / "trades.json", folder / "markets.json"
    fills.write_text(json.dumps(rows[::-1]))  # newest first, as the API returns them
    meta.write_text(json.dumps(markets))
    return fills, meta


def timed_run(inputs: Inputs, settings: BacktestSettings) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    report = build(run_backtest(inputs, settings))
    return time.perf_counter() - start, report.as_json()


def profile_layers(inputs: Inputs) -> list[Figure]:
    profiler = cProfile.Profile()
    profiler.enable()
    run_backtest(inputs, IDEAL)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    per_layer: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _, function), (_, _, tottime, _, _) in stats.items():
        total += tottime
        where = f"{filename}:{function}"
        for layer, markers in LAYERS:
            if any(marker in where for marker in markers):
                per_layer[layer] += tottime
                break
        else:
            per_layer["other (asyncio, pydantic, stdlib)"] += tottime
    return [
        Figure(f"profile_share_{_slug(layer)}", round(100 * seconds / total, 1), "%", layer)
        for layer, seconds in sorted(per_layer.items(), key=lambda kv: -kv[1])
    ]


def _slug(text: str) -> str:
    return text.split(" (", maxsplit=1)[0].replace(" ", "_")


def main() -> None:
    configure_logging("WARNING")  # the engine's info lines would drown the figures
    figures: list[Figure] = []
    amy = shared_data() / "Insider_Amy"
    start = time.perf_counter()
    inputs = load_inputs([amy / "trades.json"], [amy / "markets.json"])
    load_s = time.perf_counter() - start
    figures.append(
        Figure("amy_load_s", round(load_s, 3), "s", "3,500 fills: replay feed + catalog")
    )
    for label, settings in (("ideal", IDEAL), ("real", REAL)):
        seconds, report = timed_run(inputs, settings)
        copies = report["follower"]["copies"]
        figures += [
            Figure(f"amy_{label}_s", round(seconds, 2), "s", f"3,500 fills, {copies} copied"),
            Figure(f"amy_{label}_fills_per_s", round(3_500 / seconds), "fills/s"),
        ]
    with tempfile.TemporaryDirectory() as folder:
        fills, meta = synthetic(SYNTHETIC, Path(folder))
        start = time.perf_counter()
        big = load_inputs([fills], [meta])
        load_s = time.perf_counter() - start
        figures.append(Figure("synthetic_load_s", round(load_s, 2), "s", "100,000 fills"))
        seconds, report = timed_run(big, IDEAL)
        figures += [
            Figure(
                "synthetic_ideal_s",
                round(seconds, 1),
                "s",
                f"100,000 fills, {report['follower']['copies']} copied",
            ),
            Figure("synthetic_ideal_fills_per_s", round(SYNTHETIC / seconds), "fills/s"),
        ]
        small = Inputs(big.fills[:PROFILED], big.catalog)
        figures += profile_layers(small)
    figures.append(Figure("peak_rss", round(max_rss_mib()), "MiB"))
    record("backtest", figures)


if __name__ == "__main__":
    main()

"""Shared benchmark plumbing: timing, percentiles, memory, and recording figures.

Every benchmark prints its figures and merges them into bench/results.json as
(name, value, unit) rows under its own key, stamped with the machine and the date.
`bench/run.py` then rewrites the results table in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
# Benchmarks reuse the test suite's rigs: as top-level modules (`feeds.rig`) and as the
# `tests` package their own imports name (`tests.support.sim`).
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]


@dataclass(frozen=True)
class Figure:
    name: str
    value: float | int
    unit: str
    note: str = ""


def shared_data() -> Path:
    """The recorded Polymarket data (same lookup as the tests)."""
    from conftest import locate_shared_data  # noqa: PLC0415

    found = locate_shared_data()
    if found is None:
        raise SystemExit("recorded data not found: set POLYTAIL_SHARED_DATA")
    return found


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def time_each(call: Callable[[], object], repeat: int) -> list[float]:
    """Wall time of each call in nanoseconds (GC disabled while timing)."""
    samples = []
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter_ns()
            call()
            samples.append(time.perf_counter_ns() - start)
    finally:
        gc.enable()
    return samples


def rate(call: Callable[[], object], batch: int, seconds: float = 1.0) -> float:
    """Calls per second, measured over at least `seconds` in batches of `batch`."""
    done = 0
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            call()
        done += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def latency_figures(prefix: str, samples_ns: list[float], unit: str = "us") -> list[Figure]:
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]
    return [
        Figure(f"{prefix}_p50", round(percentile(samples_ns, 50) / scale, 3), unit),
        Figure(f"{prefix}_p99", round(percentile(samples_ns, 99) / scale, 3), unit),
        Figure(f"{prefix}_mean", round(statistics.fmean(samples_ns) / scale, 3), unit),
    ]


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def record(bench: str, figures: list[Figure]) -> None:
    """Print the figures and merge them into bench/results.json."""
    width = max(len(figure.name) for figure in figures)
    print(f"== {bench}")
    for figure in figures:
        note = f"  ({figure.note})" if figure.note else ""
        print(f"  {figure.name:<{width}}  {figure.value:>14}  {figure.unit}{note}")
    data: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault("benchmarks", {})[bench] = {
        "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "figures": [asdict(figure) for figure in figures],
    }
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

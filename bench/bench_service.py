"""`polytail run` as a service: time from start to ready, and steady-state memory.

- start → ready: a fresh `polytail run` process (paper, against the local exchange) from
  exec to its "[PAPER] ready" line, which it prints once every enabled feed is connected,
  the broker answers and reconciliation is done (what `/ready` reports). Includes the
  interpreter start and imports, as an operator sees it.
- RSS with 1,000 watched wallets: the process's resident memory (VmRSS) after a warm-up
  with the stream and the poller running for every wallet and a few of them trading (so
  fills are detected, decided and copied), sampled twice to show whether it still grows;
  10 wallets for comparison.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from eth_utils.crypto import keccak

from harness import Figure, percentile, record
from polytail.sim.scenarios import parse
from polytail.sim.server import RunningSim, start_sim

READY_RUNS = 5
WARMUP_S = 20.0
SECOND_SAMPLE_S = 20.0
ACTIVE = 5  # watched wallets that trade during the warm-up
MARKET = {"slug": "bench-service", "mid": "0.5", "depth": 8, "level_size": "100000"}


def wallets(count: int) -> list[str]:
    return ["0x" + keccak(f"bench-leader-{i}".encode())[12:].hex() for i in range(count)]


def config(sim: RunningSim, folder: Path, leaders: list[str]) -> Path:
    urls = sim.base_urls
    path = folder / "polytail.toml"
    tables = "".join(f'[[leaders]]\naddress = "{leader}"\n' for leader in leaders)
    path.write_text(
        f"""data_dir = "{folder / "data"}"
[venue]
clob_url = "{urls["clob"]}"
gamma_url = "{urls["gamma"]}"
data_url = "{urls["data"]}"
rpc_url = "{urls["rpc"]}"
rtds_url = "{urls["rtds_ws"]}"
[web]
enabled = false
[logging]
level = "WARNING"
{tables}"""
    )
    return path


class Process:
    def __init__(self, path: Path) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "polytail", "--config", str(path), "run"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 120.0) -> float:
        assert self.proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if selector.select(0.05) and self.proc.stdout.readline().startswith(b"[PAPER] ready"):
                return time.perf_counter() - self.started
        raise SystemExit("polytail run never became ready")

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise SystemExit("no VmRSS (Linux only)")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        if self.proc.wait(timeout=60) != 0:
            raise SystemExit(f"polytail run exited with {self.proc.returncode}")


def trade_while(sim: RunningSim, leaders: list[str], stop: threading.Event) -> None:
    token = next(m for m in sim.admin.state()["markets"] if m["slug"] == "bench-service")
    yes = token["token_ids"][0]
    for leader in leaders:
        sim.admin.fund(leader, pusd="1000000")
    turn = 0
    while not stop.wait(2.0):
        side = "BUY" if turn % 3 else "SELL"
        for leader in leaders:
            try:
                sim.admin.trade(leader, yes, side, shares="20", price="0.5")
            except Exception as error:  # a sale of nothing held: skip it
                print(f"  (scripted trade skipped: {error})", file=sys.stderr)
        turn += 1


def memory(sim: RunningSim, count: int) -> tuple[float, float, float]:
    """(start→ready s, RSS after warm-up MiB, RSS after another interval MiB)."""
    watched = wallets(count)
    with tempfile.TemporaryDirectory() as folder:
        run = Process(config(sim, Path(folder), watched))
        ready = run.wait_ready()
        stop = threading.Event()
        trader = threading.Thread(target=trade_while, args=(sim, watched[:ACTIVE], stop))
        trader.start()
        try:
            time.sleep(WARMUP_S)
            first = run.rss_mib()
            time.sleep(SECOND_SAMPLE_S)
            second = run.rss_mib()
        finally:
            stop.set()
            trader.join()
            run.stop()
    return ready, first, second


def main() -> None:
    if not Path("/proc/self/status").exists():
        raise SystemExit("bench_service reads /proc: Linux only")
    spec = parse({"name": "bench-service", "seed": 3, "clock": "realtime", "markets": [MARKET]})
    os.environ.pop("POLYTAIL_CONFIG", None)
    with start_sim(spec, settle_delays=(0.0, 0.0)) as sim:
        samples = []
        for _ in range(READY_RUNS):
            with tempfile.TemporaryDirectory() as folder:
                run = Process(config(sim, Path(folder), wallets(10)))
                samples.append(run.wait_ready())
                run.stop()
        ready_1000, rss_1000, rss_1000_later = memory(sim, 1000)
        _, rss_10, _ = memory(sim, 10)
    figures = [
        Figure(
            "start_to_ready_p50", round(percentile(samples, 50), 2), "s", "10 wallets, fresh DB"
        ),
        Figure("start_to_ready_max", round(max(samples), 2), "s", f"{READY_RUNS} runs"),
        Figure("start_to_ready_1000_wallets", round(ready_1000, 2), "s"),
        Figure("rss_1000_wallets", round(rss_1000, 1), "MiB", f"after {WARMUP_S:g} s running"),
        Figure(
            "rss_1000_wallets_later",
            round(rss_1000_later, 1),
            "MiB",
            f"{SECOND_SAMPLE_S:g} s later (growth = leak check)",
        ),
        Figure("rss_10_wallets", round(rss_10, 1), "MiB", "same process, 10 wallets"),
    ]
    record("service", figures)


if __name__ == "__main__":
    main()

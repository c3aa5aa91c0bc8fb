"""End to end: `polytail run --live` as a real process against the local exchange.

A scripted leader buys three times and then sells part; polytail copies each buy and
mirrors the sale with orders signed by the official SDK, while the test drops the RTDS
stream and opens a matching-engine restart window (HTTP 425 on order endpoints).
Afterwards `/ready`, `/metrics`, `polytail status --json` and the Telegram chat (a fake
Bot API on loopback) all tell what happened, and SIGTERM stops it gracefully (exit 0,
lock released).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from polytail.app.lock import InstanceLock
from polytail.sim.server import RunningSim, free_port
from tests.support.fake_telegram import FakeBotApi
from tests.support.sim import settling_sim
from tests.support.threaded_server import serve_in_thread

TELEGRAM_TOKEN = "123456:e2e-telegram-token-abcdefghijklmnop"
DASHBOARD_TOKEN = "e2e-dashboard-token-0123456789"
CHAT_ID = 4242
MARKET = {
    "slug": "e2e-market",
    "question": "Will the end-to-end test pass?",
    "fee_rate": "0.05",
    "mid": "0.5",
    "spread": "0.02",
    "depth": 8,
    "level_size": "2000",
}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSim]:
    with settling_sim("e2e", 31, [MARKET], clock="realtime") as running:
        yield running


@pytest.fixture(scope="module")
def telegram() -> Iterator[tuple[FakeBotApi, str]]:
    api = FakeBotApi(TELEGRAM_TOKEN)
    with serve_in_thread(api.app) as url:
        yield api, url


def config_text(sim: RunningSim, wallet: str, leader: str, data_dir: Path, telegram: str) -> str:
    urls = sim.base_urls
    venue = "\n".join(
        f'{key} = "{urls[name]}"'
        for key, name in (
            ("clob_url", "clob"),
            ("gamma_url", "gamma"),
            ("data_url", "data"),
            ("relayer_url", "relayer"),
            ("rpc_url", "rpc"),
            ("rtds_url", "rtds_ws"),
            ("clob_market_ws_url", "clob_market_ws"),
            ("clob_user_ws_url", "clob_user_ws"),
            ("geoblock_url", "geoblock"),
        )
    )
    return f"""
mode = "live"
account = "e2e"
data_dir = "{data_dir}"

[wallet]
address = "{wallet}"
type = "eoa"

[venue]
{venue}
request_timeout_s = 5

[feeds.stream]
max_backoff_s = 1

[feeds.poll]
min_interval_s = 0.5
max_interval_s = 2

[[leaders]]
address = "{leader}"
name = "scripted"

[sizing]
mode = "fixed"
fixed_usdc = 5

[pricing]
slippage_bps = 500
buy_order_type = "FAK"
sell_order_type = "FAK"

[execution]
reply_timeout_s = 10

[web]
port = {free_port()}

[notify]
digest_utc = ""

[notify.telegram]
enabled = true
chat_id = "{CHAT_ID}"
api_url = "{telegram}"
commands = false
"""


class Polytail:
    """`polytail run` in a subprocess; stdout lines are collected as they come."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "polytail",
                "--config",
                str(config),
                "run",
                "--live",
                "--i-understand-live-trading",
            ],
            stdout=subprocess.PIPE,
            stderr=open(config.parent / "stderr.log", "wb"),  # noqa: SIM115 - lives with the process
            env=env,
        )
        assert self.proc.stdout is not None
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)

    def read(self, timeout: float) -> None:
        assert self.proc.stdout is not None
        if self.selector.select(timeout=timeout):
            line = self.proc.stdout.readline()
            if line:
                self.lines.append(line.decode().rstrip())

    def wait_for_line(self, prefix: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((line for line in self.lines if line.startswith(prefix)), None)
            if found:
                return found
            if self.proc.poll() is not None:
                self.read(0.1)
                break
            self.read(0.2)
        raise AssertionError(f"no line {prefix!r}; output so far: {self.lines}")


def until(condition: Callable[[], Any], within_s: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or condition}")


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.slow
def test_polytail_run_copies_a_leader_through_a_dropped_stream_and_a_425_window(
    sim: RunningSim, telegram: tuple[FakeBotApi, str], tmp_path: Path
) -> None:
    api, telegram_url = telegram
    ours, leader = Account.create(), Account.create()
    sim.admin.fund(ours.address, pusd="200")
    sim.admin.fund(leader.address, pusd="10000")
    yes = next(m for m in sim.admin.state()["markets"] if m["slug"] == "e2e-market")["token_ids"][0]
    config = tmp_path / "polytail.toml"
    config.write_text(config_text(sim, ours.address, leader.address, tmp_path, telegram_url))
    port = int(re.search(r"port = (\d+)", config.read_text()).group(1))  # type: ignore[union-attr]
    web = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {DASHBOARD_TOKEN}"},
        timeout=10,
    )
    env = {
        **os.environ,
        "POLYTAIL_PRIVATE_KEY": ours.key.hex(),
        "POLYTAIL_DASHBOARD_TOKEN": DASHBOARD_TOKEN,
        "POLYTAIL_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
    }
    run = Polytail(config, env)
    try:
        run.wait_for_line("[LIVE] ready")
        assert all(line.startswith("[LIVE] ") for line in run.lines), run.lines
        assert web.get("/ready").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/ready").status_code == 401

        def matched() -> int:
            """Orders that ended with shares: MATCHED, or a FAK's remainder CANCELED."""
            orders = web.get("/api/orders", params={"open_only": "false"}).json()
            return sum(
                1
                for view in orders
                if view["order"]["state"] in ("MATCHED", "CANCELED")
                and float(view["order"]["filled"]) > 0
            )

        # 1. a buy, copied through the stream
        sim.admin.trade(leader.address, yes, "BUY", shares="40", price="0.51")
        until(lambda: matched() >= 1, what="the first copy")

        # 2. the RTDS stream drops; the next buy is still copied (reconnect + backfill, poll)
        sim.admin.drop("rtds")
        sim.admin.trade(leader.address, yes, "BUY", shares="30", price="0.51")
        until(lambda: matched() >= 2, what="the copy after the dropped stream")

        # 3. the matching engine restarts just after the leader's trade: the copy's POST
        # (slowed so that it lands inside the window) gets 425 until the engine is back
        sim.admin.faults(add=[{"kind": "latency", "service": "clob", "path": "/order", "ms": 400}])
        sim.admin.trade(leader.address, yes, "BUY", shares="30", price="0.51")
        sim.admin.restart(down_seconds=2, post_only_seconds=0)
        until(lambda: matched() >= 3, within_s=45, what="the copy through the 425 window")
        sim.admin.faults(clear=True)

        # 4. the leader sells a quarter: the exit is mirrored
        sim.admin.trade(leader.address, yes, "SELL", shares="25", price="0.49")
        until(lambda: matched() >= 4, what="the mirrored sale")

        metrics = web.get("/metrics").text
        assert metric(metrics, "polytail_fills_detected_total") >= 4
        assert metric(metrics, "polytail_decisions_total", action="copy") == 4
        assert metric(metrics, "polytail_trades_booked_total", side="BUY") >= 3
        assert metric(metrics, "polytail_trades_booked_total", side="SELL") >= 1
        assert metric(metrics, "polytail_orders", state="SENT") == 0
        assert metric(metrics, "polytail_venue_stream_reconnects_total", family="rtds") >= 1
        assert metric(metrics, "polytail_venue_restarts_total", family="clob.order") >= 1
        assert metric(metrics, "polytail_ready") == 1
        assert metric(metrics, "polytail_info", mode="live") == 1
        assert web.get("/ready").status_code == 200

        status = subprocess.run(
            [sys.executable, "-m", "polytail", "--config", str(config), "status", "--json"],
            capture_output=True,
            env=env,
            check=True,
        )
        report = json.loads(status.stdout)
        assert report["mode"] == "live"
        assert report["status"]["positions"] == 1
        held = web.get("/api/positions").json()
        assert len(held) == 1 and float(held[0]["shares"]) > 0
        assert float(report["status"]["cash"]) < 200
        # the CLI (store) and the dashboard (running engine) agree on cash and realized PnL;
        # a quarter sold at 0.49 of what was bought near 0.51 (plus fees) realized a loss
        live_status = web.get("/api/status").json()
        realized = report["status"]["pnl_total"]["realized"]
        assert realized == live_status["pnl_total"]["realized"]
        assert report["status"]["cash"] == live_status["cash"]
        assert Decimal(realized) < 0

        texts = until(
            lambda: [m["text"] for m in api.sent if "Sold" in m["text"]] and api.sent,
            within_s=20,
            what="the Telegram message of the sale",
        )
        assert all(str(m["chat_id"]) == str(CHAT_ID) for m in api.sent)
        joined = "\n".join(m["text"] for m in texts)
        assert "[LIVE]" in joined and "Bought" in joined and "Sold" in joined
        assert DASHBOARD_TOKEN not in joined and ours.key.hex() not in joined
    finally:
        run.proc.send_signal(signal.SIGTERM)
        code = run.proc.wait(timeout=60)
        web.close()
    while run.proc.stdout and (line := run.proc.stdout.readline()):
        run.lines.append(line.decode().rstrip())
    assert code == 0, (tmp_path / "stderr.log").read_text()[-3000:]
    assert run.lines[-2:] == ["[LIVE] stopping (SIGTERM)", "[LIVE] stopped"]
    with InstanceLock(tmp_path):  # released: a new run could start at once
        pass
    assert not (tmp_path / "polytail.pid").exists()

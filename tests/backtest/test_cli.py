"""The commands end to end: `polytail backtest --leader` fetches a history from the Data
API (the local exchange here) into the cache and runs offline from it afterwards;
`polytail leaders discover` prints candidates and a config snippet; bad options get a
clear error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from polytail.cli.main import app
from polytail.sim.server import RunningSim, start_sim
from tests.execution.support import scenario, tokens

LEADER = "0x" + "d4" * 20


def polytail(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYTAIL_")}
    return subprocess.run(
        [sys.executable, "-m", "polytail", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    market = {"slug": "omega", "mid": "0.5", "spread": "0.02", "depth": 4, "level_size": "500"}
    with start_sim(scenario(market, seed=31), settle_delays=(0.0, 0.0)) as running:
        running.admin.fund(LEADER, pusd="10000")
        condition, (yes, _) = tokens(running, "omega")
        for _ in range(3):
            running.admin.trade(LEADER, yes, "BUY", shares="25", price="0.55")
            running.admin.advance(600)
        running.admin.resolve(condition, winner=0)
        yield running


def config_file(sim: RunningSim, tmp_path: Path) -> Path:
    urls = sim.base_urls
    path = tmp_path / "polytail.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[venue]\n'
        f'clob_url = "{urls["clob"]}"\ngamma_url = "{urls["gamma"]}"\n'
        f'data_url = "{urls["data"]}"\n'
    )
    return path


def test_a_leader_history_is_fetched_once_and_replayed_from_the_cache(
    sim: RunningSim, tmp_path: Path
) -> None:
    config = config_file(sim, tmp_path)
    args = ["--config", str(config), "backtest", "--leader", LEADER, "--latency", "0",
            "--slippage", "0", "--ratio", "1", "--no-caps", "--json"]  # fmt: skip
    first = polytail(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["follower"]["copies"] == 3
    assert report["follower"]["pnl"] == report["leaders"][LEADER]["pnl"]
    assert Decimal(report["follower"]["pnl"]) > 0  # bought at most 0.55, paid 1
    cached = tmp_path / "data" / "cache" / "activity" / f"{LEADER}.json"
    assert cached.exists()
    sim.admin.faults(set=[{"kind": "status", "service": "*", "status": 503}])
    again = polytail(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == report  # offline, and the same result


def test_leaders_discover_prints_a_table_and_a_snippet(sim: RunningSim, tmp_path: Path) -> None:
    config = config_file(sim, tmp_path)
    result = polytail(
        "--config", str(config), "leaders", "discover", "--period", "ALL", "--limit", "5",
        "--min-fills", "2", "--workers", "1", "--no-caps", "--json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    wallets = [candidate["wallet"] for candidate in found["candidates"]]
    assert LEADER in wallets
    assert "[[leaders]]" in found["snippet"] or "no candidate passed" in found["snippet"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backtest"], "give --fills FILE"),
        (["backtest", "--fills", "missing.json"], "missing.json: no such file"),
        (["backtest", "--leader", "nope"], "--leader"),
        (["backtest", "--fills", "x.json", "--latency", "soon"], "--latency"),
        (["backtest", "--fills", "x.json", "--sweep", "speed=1"], "expected one of"),
    ],
)
def test_bad_options_get_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.json").write_text("[]")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr

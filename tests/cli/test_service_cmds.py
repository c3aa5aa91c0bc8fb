"""`polytail run`'s switches and lock, and the commands that read what it did: `status`,
`positions`, `orders`, `leaders list`, `decisions`, `audit`, `kill`."""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from polytail.app.runner import Runner
from polytail.cli.main import app
from polytail.config.load import load_config
from polytail.config.secrets import Secrets
from polytail.engine.events import DecisionMade, Event, TradeBooked
from polytail.sim.server import RunningSim
from tests.app.test_runner import write_config
from tests.support.sim import settling_sim
from tests.support.waiting import eventually

MARKET = {
    "slug": "cli-market",
    "question": "Will the CLI show it?",
    "mid": "0.5",
    "level_size": "2000",
}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSim]:
    with settling_sim("cli", 43, [MARKET], clock="realtime") as running:
        yield running


def polytail(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("POLYTAIL_")}
    return subprocess.run(
        [sys.executable, "-m", "polytail", *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


# --- the two switches -----------------------------------------------------------------------


@pytest.fixture
def live_config(tmp_path: Path) -> Path:
    path = tmp_path / "live.toml"
    path.write_text(
        f'mode = "live"\ndata_dir = "{tmp_path}"\n[wallet]\naddress = "0x{"11" * 20}"\n'
        'type = "eoa"\n[web]\nenabled = false\n'
    )
    return path


def test_live_in_the_config_without_the_flag_is_refused(live_config: Path) -> None:
    result = polytail("--config", str(live_config), "run")
    assert result.returncode == 1
    assert "--live was not given" in result.stderr
    assert not (live_config.parent / "polytail.lock").exists()


def test_the_flag_without_live_in_the_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "paper.toml"
    path.write_text(f'data_dir = "{tmp_path}"\n')
    result = polytail("--config", str(path), "run", "--live")
    assert result.returncode == 1 and "config says mode = 'paper'" in result.stderr


def test_live_without_a_terminal_needs_the_explicit_confirmation_flag(live_config: Path) -> None:
    result = polytail("--config", str(live_config), "run", "--live")
    assert result.returncode == 1
    assert "--i-understand-live-trading" in result.stderr


# --- one instance per data directory ----------------------------------------------------------


def test_a_second_run_on_the_same_data_directory_fails_naming_the_first(
    sim: RunningSim, tmp_path: Path
) -> None:
    path = tmp_path / "polytail.toml"
    write_config(path, sim, [sim.exchange.named_wallet("locked").lower()])
    first = subprocess.Popen(
        [sys.executable, "-m", "polytail", "--config", str(path), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert first.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(first.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if selector.select(0.2) and first.stdout.readline().startswith(b"[PAPER] ready"):
                break
        else:
            raise AssertionError("the first run never became ready")
        second = polytail("--config", str(path), "run")
        assert second.returncode == 1
        assert (
            f"pid {first.pid} is already running polytail on {tmp_path / 'data'}" in second.stderr
        )
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0


# --- reading what a run did ---------------------------------------------------------------------


async def _run_and_copy(sim: RunningSim, path: Path, leader: str) -> str:
    events: list[Event] = []

    def listen(context: Any) -> list[Any]:
        context.bus.listen(events.append)
        return []

    runner = Runner(
        load_config(path, {}, use_default_file=False),
        Secrets(),
        config_path=path,
        install_signals=False,
        watch_files=False,
        say=lambda _: None,
        surfaces=[listen],
    )
    task = asyncio.create_task(runner.run())
    await eventually(runner.ready.is_set, 30)
    token = next(m for m in sim.admin.state()["markets"] if m["slug"] == "cli-market")
    sim.admin.trade(leader, token["token_ids"][0], "BUY", shares="40", price="0.51")
    await eventually(lambda: any(isinstance(e, TradeBooked) for e in events))
    runner.stop("done")
    await task
    decided = next(e for e in events if isinstance(e, DecisionMade))
    assert decided.decision.fill_id is not None
    return decided.decision.fill_id


@pytest.fixture(scope="module")
def ran(sim: RunningSim, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A config whose data directory holds one paper run that copied one leader fill."""
    path = tmp_path_factory.mktemp("ran") / "polytail.toml"
    leader = sim.exchange.named_wallet("shown").lower()
    sim.admin.fund(leader, pusd="10000")
    write_config(path, sim, [leader])
    path.write_text(path.read_text().replace("[[leaders]]", '[[leaders]]\nname = "shown"', 1))
    return path, asyncio.run(_run_and_copy(sim, path, leader))


def cli(path: Path, *args: str) -> Any:
    result = CliRunner().invoke(app, ["--config", str(path), *args])
    assert result.exit_code == 0, result.output
    return result.output


def as_json(path: Path, *args: str) -> Any:
    return json.loads(cli(path, *args, "--json"))


def test_status_shows_the_mode_and_the_copy(ran: tuple[Path, str]) -> None:
    path, _ = ran
    report = as_json(path, "status")
    assert report["mode"] == "paper"
    status = report["status"]
    assert status["positions"] == 1 and status["open_orders"] == 0
    assert float(status["cash"]) < 1000
    assert status["health"]["ready"] is False  # no engine runs in this process
    assert status["kill_switch"]["engaged"] is False
    assert "[PAPER] status of account default" in cli(path, "status")


def test_positions_orders_and_leaders_agree(ran: tuple[Path, str]) -> None:
    path, _ = ran
    (position,) = as_json(path, "positions")["positions"]
    assert position["market"] == "cli-market"
    assert position["by_leader"][0]["label"] == "shown"
    (order,) = as_json(path, "orders", "--all")["orders"]
    assert order["order"]["intent"]["side"] == "BUY" and float(order["order"]["filled"]) > 0
    assert as_json(path, "orders")["orders"] == []  # nothing open
    (leader,) = as_json(path, "leaders", "list")["leaders"]
    assert (leader["label"], leader["copies"], leader["skips"]) == ("shown", 1, 0)
    assert float(leader["budget_used"]) == float(position["cost"])
    assert "[PAPER] leaders" in cli(path, "leaders", "list")


def test_decisions_explain_why_a_fill_was_copied(ran: tuple[Path, str]) -> None:
    path, fill_id = ran
    (recent,) = as_json(path, "decisions")["decisions"]
    assert recent["decision"]["fill_id"] == fill_id
    (why,) = as_json(path, "decisions", "--why", fill_id)["decisions"]
    assert why["explanations"] == ["copied: copied"]
    assert why["fill"]["fill_id"] == fill_id
    missing = CliRunner().invoke(app, ["--config", str(path), "decisions", "--why", "nope"])
    assert missing.exit_code == 1 and "never seen" in missing.output


def test_the_audit_log_has_the_run_and_every_order_change(ran: tuple[Path, str]) -> None:
    path, _ = ran
    entries = as_json(path, "audit")["audit"]
    actions = [entry["action"] for entry in reversed(entries)]
    assert actions[0] == "start" and actions[-1] == "stop"
    assert "order PENDING" in actions and "order SENT" in actions
    assert actions.index("order PENDING") < actions.index("order SENT")


def test_kill_on_and_off_write_the_file_and_the_audit_log(ran: tuple[Path, str]) -> None:
    path, _ = ran
    kill_file = path.parent / "data" / "KILL"
    assert "ENGAGED (by cli" in cli(path, "kill", "on")
    assert kill_file.exists()
    assert as_json(path, "status")["status"]["kill_switch"]["engaged"] is True
    assert "ENGAGED" in cli(path, "kill", "status")
    assert "kill switch off" in cli(path, "kill", "off")
    assert not kill_file.exists()
    kill_entries = [e for e in as_json(path, "audit")["audit"] if e["action"] == "kill_switch"]
    assert [(e["actor"], e["subject"]) for e in kill_entries] == [
        ("cli", "released"),
        ("cli", "engaged"),
    ]

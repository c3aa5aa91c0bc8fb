"""`Runner` (what `polytail run` runs), in process against the local exchange, paper mode:
config edits apply while it runs and a broken edit changes nothing; the kill switch file
and SIGUSR1 stop new copies; SIGHUP reloads; SIGTERM stops it gracefully; live mode is
refused without its confirmation."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from polytail.app.runner import LiveNotConfirmed, Runner
from polytail.config.load import load_config
from polytail.config.secrets import Secrets
from polytail.domain.decisions import ReasonCode
from polytail.engine.events import (
    ConfigReloaded,
    DecisionMade,
    EngineError,
    Event,
    KillSwitchChanged,
)
from polytail.sim.server import RunningSim
from polytail.store import Store
from tests.support.sim import settling_sim
from tests.support.waiting import eventually

MARKET = {"slug": "runner", "mid": "0.5", "spread": "0.02", "depth": 6, "level_size": "2000"}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSim]:
    with settling_sim("runner", 41, [MARKET], clock="realtime") as running:
        yield running


def write_config(path: Path, sim: RunningSim, leaders: list[str], extra: str = "") -> None:
    urls = sim.base_urls
    leader_tables = "".join(f'\n[[leaders]]\naddress = "{leader}"\n' for leader in leaders)
    path.write_text(
        f"""
data_dir = "{path.parent / "data"}"
[venue]
clob_url = "{urls["clob"]}"
gamma_url = "{urls["gamma"]}"
data_url = "{urls["data"]}"
rpc_url = "{urls["rpc"]}"
rtds_url = "{urls["rtds_ws"]}"
[feeds.poll]
min_interval_s = 0.5
[web]
enabled = false
[pricing]
slippage_bps = 500
buy_order_type = "FAK"
sell_order_type = "FAK"
[paper]
latency_ms = 0
{extra}
{leader_tables}
"""
    )


class Running:
    """A runner in a task, with what it published and announced."""

    def __init__(self, path: Path, *, install_signals: bool = False) -> None:
        self.events: list[Event] = []
        self.lines: list[str] = []
        self.runner = Runner(
            load_config(path, {}, use_default_file=False),
            Secrets(),
            config_path=path,
            install_signals=install_signals,
            say=self.lines.append,
            environ={},
            surfaces=[self._listen],
        )
        self.task: asyncio.Task[None] | None = None

    def _listen(self, context: Any) -> list[Any]:
        context.bus.listen(self.events.append)
        return []

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.runner.run())
        await eventually(self.runner.ready.is_set, 20)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.runner.stop("test over")
        assert self.task is not None
        await self.task

    def of(self, kind: type) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


def leader(sim: RunningSim, name: str) -> str:
    wallet = sim.exchange.named_wallet(name)
    sim.admin.fund(wallet, pusd="100000")
    return wallet.lower()


def buy(sim: RunningSim, wallet: str) -> None:
    token = next(m for m in sim.admin.state()["markets"] if m["slug"] == "runner")["token_ids"][0]
    sim.admin.trade(wallet, token, "BUY", shares="40", price="0.51")


async def test_a_config_edit_applies_while_running_and_a_broken_one_changes_nothing(
    sim: RunningSim, tmp_path: Path
) -> None:
    first, second = leader(sim, "first"), leader(sim, "added-later")
    path = tmp_path / "polytail.toml"
    write_config(path, sim, [first])
    async with Running(path) as run:
        write_config(path, sim, [first, second], "[sizing]\nfixed_usdc = 7")
        reload = await eventually(lambda: run.of(ConfigReloaded))
        assert {"leaders", "sizing.fixed_usdc"} <= set(reload[0].changed_keys)
        engine = run.runner.context.engine  # type: ignore[union-attr]
        assert engine.config.sizing.fixed_usdc == Decimal(7)
        buy(sim, second)  # the new leader is watched and copied without a restart
        decided = await eventually(lambda: run.of(DecisionMade))
        assert decided[0].decision.leader == second and decided[0].decision.is_copy

        path.write_text("this is = not [valid toml")
        await eventually(lambda: [e for e in run.of(EngineError) if e.component == "config"])
        assert engine.config.sizing.fixed_usdc == Decimal(7)
        assert len(run.of(ConfigReloaded)) == 1
    with Store.from_config(engine.config) as store, store.read() as tx:
        actions = [entry.action for entry in reversed(tx.audit.recent())]
    assert actions == ["start", "config_reload", "config_rejected", "stop"]


async def test_the_kill_switch_file_and_sigusr1_stop_new_copies(
    sim: RunningSim, tmp_path: Path
) -> None:
    wallet = leader(sim, "killed")
    path = tmp_path / "polytail.toml"
    write_config(path, sim, [wallet])
    async with Running(path, install_signals=True) as run:
        (tmp_path / "data" / "KILL").touch()
        await eventually(lambda: run.of(KillSwitchChanged))
        buy(sim, wallet)
        decided = await eventually(lambda: run.of(DecisionMade))
        assert decided[0].decision.reasons == (ReasonCode.KILL_SWITCH,)

        os.kill(os.getpid(), signal.SIGUSR1)  # toggles it off
        await eventually(lambda: len(run.of(KillSwitchChanged)) == 2)
        assert not (tmp_path / "data" / "KILL").exists()
        assert run.of(KillSwitchChanged)[-1].source == "SIGUSR1"
        buy(sim, wallet)
        decided = await eventually(lambda: len(run.of(DecisionMade)) == 2 and run.of(DecisionMade))
        assert decided[1].decision.is_copy


async def test_sighup_reloads_and_sigterm_stops_gracefully(sim: RunningSim, tmp_path: Path) -> None:
    path = tmp_path / "polytail.toml"
    write_config(path, sim, [leader(sim, "signalled")])
    run = Running(path, install_signals=True)
    run.runner.watch_files = False  # only the signal may reload here
    async with run:
        write_config(path, sim, [leader(sim, "signalled")], "[risk]\nmax_order_usdc = 12")
        await asyncio.sleep(0.2)
        assert not run.of(ConfigReloaded)
        os.kill(os.getpid(), signal.SIGHUP)
        reload = await eventually(lambda: run.of(ConfigReloaded))
        assert reload[0].changed_keys == ("risk.max_order_usdc",)
        os.kill(os.getpid(), signal.SIGTERM)
        assert run.task is not None
        await asyncio.wait_for(asyncio.shield(run.task), 20)
    assert run.lines[-2:] == ["[PAPER] stopping (SIGTERM)", "[PAPER] stopped"]
    assert not (tmp_path / "data" / "polytail.pid").exists()


async def test_live_mode_is_refused_without_its_confirmation(tmp_path: Path) -> None:
    config = load_config(
        None,
        {
            "POLYTAIL_MODE": "live",
            "POLYTAIL_WALLET__ADDRESS": "0x" + "11" * 20,
            "POLYTAIL_WALLET__TYPE": "eoa",
            "POLYTAIL_DATA_DIR": str(tmp_path),
        },
        use_default_file=False,
    )
    with pytest.raises(LiveNotConfirmed, match="--live"):
        await Runner(config, Secrets(), install_signals=False).run()
    assert not (tmp_path / "polytail.lock").exists()  # refused before anything was touched

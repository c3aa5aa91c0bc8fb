"""The notifier beside a running engine follows config reloads: a webhook added to the file
gets the next copy; settings it cannot use change nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from polytail.app.runner import Runner
from polytail.cli.surfaces import operator_surfaces
from polytail.config.load import load_config
from polytail.config.secrets import Secrets
from polytail.engine.events import ConfigReloaded, EngineError, Event
from polytail.sim.server import RunningSim
from polytail.web.server import WebServer
from tests.app.test_runner import write_config
from tests.support.receiver import WebhookReceiver
from tests.support.sim import settling_sim
from tests.support.waiting import eventually

MARKET = {"slug": "hooked", "question": "Is it posted?", "mid": "0.5", "level_size": "2000"}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSim]:
    with settling_sim("surfaces", 53, [MARKET], clock="realtime") as running:
        yield running


async def test_a_webhook_added_while_running_receives_the_next_copy(
    sim: RunningSim, tmp_path: Path
) -> None:
    leader = sim.exchange.named_wallet("hooked-leader").lower()
    sim.admin.fund(leader, pusd="10000")
    token = next(m for m in sim.admin.state()["markets"] if m["slug"] == "hooked")["token_ids"][0]
    path = tmp_path / "polytail.toml"
    write_config(path, sim, [leader])
    events: list[Event] = []

    def listen(context: Any) -> list[Any]:
        context.bus.listen(events.append)
        return []

    receiver = WebhookReceiver()
    async with WebServer(receiver.app) as hooks:
        runner = Runner(
            load_config(path, {}, use_default_file=False),
            Secrets(),
            config_path=path,
            install_signals=False,
            say=lambda _: None,
            environ={},
            surfaces=[operator_surfaces, listen],
        )
        task = asyncio.create_task(runner.run())
        try:
            await eventually(runner.ready.is_set)
            hook = f'[[notify.webhooks]]\nurl = "{hooks.url}/hook/s3cret"\nevents = ["copy"]'
            write_config(path, sim, [leader], hook)
            await eventually(lambda: [e for e in events if isinstance(e, ConfigReloaded)])
            sim.admin.trade(leader, token, "BUY", shares="40", price="0.51")
            (posted,) = await receiver.wait_for(1, within_s=15)
            assert posted["kind"] == "copy" and posted["mode"] == "paper"
            assert posted["data"]["result"] in ("filled", "partly filled")

            # Telegram without its token: refused, the webhook notifier stays in place
            write_config(
                path, sim, [leader], hook + '\n[notify.telegram]\nenabled = true\nchat_id = "1"'
            )
            refusal = await eventually(
                lambda: [e for e in events if isinstance(e, EngineError) and "notify" in e.message]
            )
            assert "POLYTAIL_TELEGRAM_TOKEN" in refusal[0].message
            sim.admin.trade(leader, token, "BUY", shares="40", price="0.51")
            await receiver.wait_for(2, within_s=15)
        finally:
            runner.stop("test over")
            await task

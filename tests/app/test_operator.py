"""The store- and engine-backed operator service, as the dashboard and Telegram use it in a
running `polytail run`: money at the engine's marks, pauses that reach the policy, the
digest of the day, and the same figures as the offline service the CLI uses."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from polytail.app.operator import offline_service
from polytail.app.runner import RunContext, Runner
from polytail.app.services import UnknownLeader
from polytail.config.load import load_config
from polytail.config.secrets import Secrets
from polytail.domain.decisions import ReasonCode
from polytail.engine.events import DecisionMade, Event, LeaderPaused, TradeBooked
from polytail.sim.server import RunningSim
from tests.app.test_runner import write_config
from tests.support.sim import settling_sim
from tests.support.waiting import eventually

MARKET = {"slug": "served", "question": "Is it served?", "mid": "0.5", "level_size": "2000"}


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSim]:
    with settling_sim("operator", 47, [MARKET], clock="realtime") as running:
        yield running


async def test_the_running_service_values_pauses_and_digests(
    sim: RunningSim, tmp_path: Path
) -> None:
    leader = sim.exchange.named_wallet("served-leader").lower()
    sim.admin.fund(leader, pusd="10000")
    token = next(m for m in sim.admin.state()["markets"] if m["slug"] == "served")["token_ids"][0]
    path = tmp_path / "polytail.toml"
    write_config(path, sim, [leader])
    path.write_text(path.read_text().replace("[[leaders]]", '[[leaders]]\nname = "lena"', 1))
    events: list[Event] = []
    contexts: list[RunContext] = []

    def listen(context: RunContext) -> list[Any]:
        context.bus.listen(events.append)
        contexts.append(context)
        return []

    config = load_config(path, {}, use_default_file=False)
    runner = Runner(
        config,
        Secrets(),
        install_signals=False,
        watch_files=False,
        say=lambda _: None,
        surfaces=[listen],
    )
    task = asyncio.create_task(runner.run())
    try:
        await eventually(runner.ready.is_set)
        service = contexts[0].service
        sim.admin.trade(leader, token, "BUY", shares="40", price="0.51")
        await eventually(lambda: [e for e in events if isinstance(e, TradeBooked)])
        await eventually(lambda: contexts[0].engine.pipeline.marks)  # a housekeeping pass marked it

        (position,) = await service.positions()
        assert position.mark is not None and position.unrealized_pnl is not None
        status = await service.status()
        assert status.health.ready and status.positions == 1
        assert status.equity == status.cash + position.market_value  # type: ignore[operator]

        paused = await service.pause_leader("lena", by="dashboard")
        assert paused.paused and not paused.copying
        assert next(e for e in events if isinstance(e, LeaderPaused)).source == "dashboard"
        sim.admin.trade(leader, token, "BUY", shares="20", price="0.51")
        decided = await eventually(lambda: [e for e in events if isinstance(e, DecisionMade)][1:])
        assert decided[0].decision.reasons == (ReasonCode.LEADER_PAUSED,)
        with pytest.raises(UnknownLeader, match="lena"):
            await service.pause_leader("nobody", by="dashboard")

        digest = await service.daily_digest()
        assert (digest.copies, digest.skips) == (1, 1)
        assert digest.top_skip_reasons == ((ReasonCode.LEADER_PAUSED, 1),)
        assert digest.fills_detected == 2 and digest.orders_filled == 1
        (per_leader,) = digest.leaders
        assert (per_leader.label, per_leader.copies, per_leader.skips) == ("lena", 1, 1)
        running_leaders = await service.leaders()
    finally:
        runner.stop("test over")
        await task

    # the CLI's offline service reads the same figures from the store (at cost, no marks)
    with offline_service(config) as offline:
        (leader_view,) = await offline.leaders()
        assert leader_view.paused and leader_view.copies == 1 and leader_view.skips == 1
        assert leader_view.realized_pnl == running_leaders[0].realized_pnl
        (held,) = await offline.positions()
        assert held.shares == position.shares and held.mark is None
        assert (await offline.status()).cash == status.cash

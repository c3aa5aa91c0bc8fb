"""`polytail demo`: the whole engine, offline, against the local exchange.

The local exchange runs the built-in `synthetic` scenario on a real-time clock (its demo
leaders trade every 15-90 s, crowd wallets keep the books moving, a 5-minute market
resolves during the demo); `polytail run`'s own `Runner` copies the demo leaders in paper
mode, with the same feeds, policy, paper broker and ledger a real run uses. Nothing
leaves the machine and no config file is needed: the config is built here
(`demo_config`, shown by `polytail demo --show-config`) with settings that suit a short
demo (a 5-minute market is allowed, resolutions are checked every 15 s); sizing and risk
are the defaults a user starts with.

`DemoRecorder` listens to the bus for what the terminal view shows and what the summary
counts; the summary is taken while the engine still runs (positions at its marks).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from polytail.app.jsonable import jsonable
from polytail.app.operator import StoreService
from polytail.app.runner import RunContext, Runner, Say, Surface, SurfaceFactory
from polytail.config.schema import PolytailConfig
from polytail.config.secrets import Secrets
from polytail.domain.decisions import Action, Decision
from polytail.domain.fills import LeaderFill
from polytail.domain.ids import Address, FillId
from polytail.domain.orders import Order, OrderState
from polytail.engine.events import DecisionMade, Event, FillDetected, OrderUpdated, TradeBooked
from polytail.sim.scenarios import load as load_scenario
from polytail.sim.server import RunningSim, start_sim

DEMO_SCENARIO: Final = "synthetic"
DEMO_SEED: Final = 7
RECENT: Final = 12  # rows kept for each panel of the live view
SETTLE_S: Final = 3.0  # at the end, how long orders in flight may take to finish
IN_FLIGHT: Final = frozenset({OrderState.PENDING, OrderState.SENT})


def local_venue(sim: RunningSim) -> dict[str, str]:
    """The `[venue]` URLs that point polytail at the local exchange `sim` (the one map
    from its services to the config's keys: the demo and the tests use it)."""
    urls = sim.base_urls
    return {
        "clob_url": urls["clob"],
        "gamma_url": urls["gamma"],
        "data_url": urls["data"],
        "relayer_url": urls["relayer"],
        "rpc_url": urls["rpc"],
        "rtds_url": urls["rtds_ws"],
        "clob_market_ws_url": urls["clob_market_ws"],
        "clob_user_ws_url": urls["clob_user_ws"],
        "geoblock_url": urls["geoblock"],
    }


def demo_config(sim: RunningSim, data_dir: Path, leaders: dict[str, str]) -> PolytailConfig:
    """A paper configuration that copies the scenario's leaders (`name -> wallet`) on the
    local exchange at `sim`, keeping everything in `data_dir`."""
    raw: dict[str, Any] = {
        "mode": "paper",
        "account": "demo",
        "data_dir": str(data_dir),
        "venue": local_venue(sim),
        "feeds": {"poll": {"lookback_s": 60}},
        "leaders": [{"address": wallet, "name": name} for name, wallet in leaders.items()],
        # the scenario's 5-minute market would be skipped by the default 5 minutes left
        "filters": {"min_minutes_left": "1"},
        "execution": {"redeem_interval_s": 15},
        "web": {"enabled": False},
        "logging": {"level": "WARNING"},
    }
    return PolytailConfig.model_validate(raw)


@dataclass
class DemoRecorder:
    """What happened, from the bus: recent fills, decisions and orders, and the counts."""

    labels: dict[Address, str] = field(default_factory=dict)
    fills: deque[LeaderFill] = field(default_factory=lambda: deque(maxlen=RECENT))
    decisions: deque[Decision] = field(default_factory=lambda: deque(maxlen=RECENT))
    orders: dict[str, Order] = field(default_factory=dict)  # client id -> latest state
    fills_seen: int = 0
    copies: int = 0
    skips: Counter[str] = field(default_factory=Counter)
    trades: int = 0
    started: float = field(default_factory=time.monotonic)
    summary: dict[str, Any] | None = None
    settled: asyncio.Event = field(default_factory=asyncio.Event)  # nothing in hand
    undecided: set[FillId] = field(default_factory=set)  # detected, not yet decided

    def __post_init__(self) -> None:
        self.settled.set()

    def on_event(self, event: Event) -> None:
        kind = type(event)
        if kind is FillDetected:
            assert isinstance(event, FillDetected)
            self.fills_seen += 1
            self.fills.appendleft(event.fill)
            self.undecided.add(event.fill.fill_id)
        elif kind is DecisionMade:
            assert isinstance(event, DecisionMade)
            decision = event.decision
            self.decisions.appendleft(decision)
            if decision.fill_id is not None:
                self.undecided.discard(decision.fill_id)
            if decision.action is Action.COPY:
                self.copies += 1
            else:
                self.skips[decision.primary_reason.value] += 1
        elif kind is OrderUpdated:
            assert isinstance(event, OrderUpdated)
            self.orders[event.order.client_id] = event.order
            while len(self.orders) > 200:  # the view shows the newest; keep memory flat
                del self.orders[next(iter(self.orders))]
        elif kind is TradeBooked:
            self.trades += 1
        else:
            return
        if self.undecided or self.in_flight():
            self.settled.clear()
        else:
            self.settled.set()

    def label(self, leader: Address | None) -> str:
        if leader is None:
            return "exit rule"
        return self.labels.get(leader, leader[:10])

    def in_flight(self) -> bool:
        return any(order.state in IN_FLIGHT for order in self.orders.values())

    def recent_orders(self) -> list[Order]:
        return list(reversed(self.orders.values()))[:RECENT]

    async def take_summary(self, service: StoreService) -> dict[str, Any]:
        """The figures at this moment: counts from the events, money from the service."""
        status = await service.status()
        positions = await service.positions()
        orders = await service.orders(open_only=False, limit=100_000)
        states = Counter(view.order.state.value for view in orders)
        summary = {
            "mode": status.mode.value,
            "duration_s": round(time.monotonic() - self.started, 1),
            "fills_seen": self.fills_seen,
            "copies": self.copies,
            "skips": dict(self.skips.most_common()),
            "orders": dict(sorted(states.items())),
            "trades": self.trades,
            "positions": [
                {
                    "market": view.market,
                    "outcome": view.outcome,
                    "shares": view.shares,
                    "cost": view.cost,
                    "mark": view.mark,
                    "unrealized_pnl": view.unrealized_pnl,
                    "leaders": {share.label: share.shares for share in view.by_leader},
                }
                for view in positions
            ],
            "pnl": {
                "realized": status.pnl_total.realized,
                "unrealized": status.pnl_total.unrealized,
                "total": status.pnl_total.total,
            },
            "cash": status.cash,
            "equity": status.equity,
        }
        result = jsonable(summary)
        assert isinstance(result, dict)
        self.summary = result
        return result


class _RecorderSurface:
    """Attaches the recorder and takes the summary before the engine shuts down."""

    name = "demo"
    stops_before_engine = True

    def __init__(self, recorder: DemoRecorder, context: RunContext) -> None:
        self.recorder = recorder
        self.context = context
        context.bus.listen(recorder.on_event)
        recorder.labels = {
            Address(leader.address): leader.label for leader in context.config.leaders
        }

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        # The feeds have stopped (the runner stops them first); the fills they merged are
        # decided and the orders the paper venue is still filling finish (they take
        # `paper.latency_ms`), so the summary ends on no fill and no order in hand.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.recorder.settled.wait(), SETTLE_S)
        await self.recorder.take_summary(self.context.service)

    async def reload(self, config: PolytailConfig) -> None:
        return None

    def describe(self) -> str:
        return ""


def demo_leaders(sim: RunningSim, scenario_leaders: Sequence[str]) -> dict[str, str]:
    """The scenario's leaders by name, with the wallets the exchange gave them."""
    wallets = sim.admin.state()["wallets"]
    by_name = {info["name"]: address for address, info in wallets.items() if info["name"]}
    return {name: by_name[name] for name in scenario_leaders if name in by_name}


@contextlib.contextmanager
def _data_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="polytail-demo-") as folder:
        yield Path(folder)


async def run_demo(
    *,
    duration_s: float | None,
    speed: float = 1.0,
    data_dir: Path | None = None,
    seed: int = DEMO_SEED,
    view: Callable[[DemoRecorder, RunContext], Sequence[Surface]] | None = None,
    say: Say = print,
    on_config: Callable[[PolytailConfig], None] | None = None,
) -> dict[str, Any]:
    """Run the demo until `duration_s` passed (None: until SIGINT/SIGTERM); the summary."""
    spec = load_scenario(DEMO_SCENARIO, seed=seed)
    spec.clock = "realtime"
    spec.speed = speed
    recorder = DemoRecorder()
    with _data_dir(data_dir) as folder, start_sim(spec) as sim:
        config = demo_config(
            sim, folder, demo_leaders(sim, [leader.name for leader in spec.leaders])
        )
        if on_config is not None:
            on_config(config)

        def recorder_surface(context: RunContext) -> Sequence[Surface]:
            return [_RecorderSurface(recorder, context)]

        factories: list[SurfaceFactory] = [recorder_surface]
        if view is not None:
            factories.append(lambda context: view(recorder, context))
        runner = Runner(
            config, Secrets(), surfaces=factories, watch_files=False, by="demo", say=say
        )
        timer = None
        if duration_s is not None:
            timer = asyncio.get_running_loop().call_later(
                duration_s, runner.stop, f"{duration_s:g} s demo finished"
            )
        try:
            await runner.run()
        finally:
            if timer is not None:
                timer.cancel()
    assert recorder.summary is not None
    return recorder.summary

"""`polytail run`: the engine wired from the configuration, supervised, until told to stop.

    runner = Runner(config, secrets, config_path=path, surfaces=[web_and_notify])
    await runner.run()      # returns after SIGINT/SIGTERM (or `runner.stop()`), lock released

What it builds (one of each, shared): the store, the event bus, the venue clients, the
watch list and the feeds (each supervised by `Feeds`), the engine (paper, or live when
the caller confirmed it), the operator controls and service, and the surfaces the caller
asks for (the CLI adds the web server and the notifier; the demo its terminal view).

While it runs:

- **supervision**: each feed and each engine loop restarts with backoff when it fails,
  without stopping the rest; the engine's start is retried while the venue does not
  answer; every failure is an `EngineError` and a `ComponentStatus`;
- **signals**: SIGINT/SIGTERM stop it gracefully, SIGHUP reloads the config file, SIGUSR1
  toggles the kill switch;
- **files**: the config file is watched (hot reload, `app.reload`) and so is the kill
  switch file (`app.controls`), with watchfiles (inotify, polling where unavailable);
- **one instance per data directory** (`app.lock`).

Graceful stop, in order: the web surface stops taking requests, the feeds stop (batches
being written finish), the engine finishes the fill or report in hand, cancels or leaves
resting orders (`execution.on_shutdown`) and closes the venue clients and the store, the
notifier sends what is queued, the lock is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

import structlog

from polytail import __version__
from polytail.app.breakers import BreakerWatch
from polytail.app.controls import Controls
from polytail.app.health import HealthTracker, required_components
from polytail.app.lock import InstanceLock
from polytail.app.operator import StoreService
from polytail.app.reload import plan_reload
from polytail.config.load import ConfigError, load_config
from polytail.config.schema import Mode, PolytailConfig
from polytail.config.secrets import Secrets
from polytail.domain.clock import Clock
from polytail.domain.ids import account_id
from polytail.engine.clock import WallClock
from polytail.engine.events import (
    ComponentStatus,
    ConfigReloaded,
    EngineError,
    Event,
    EventBus,
)
from polytail.engine.feed_events import BusObserver
from polytail.engine.runtime import Engine, build_live, build_paper
from polytail.feeds import Feeds, WatchList, watched_addresses
from polytail.store import Store
from polytail.store.audit import AuditEntry
from polytail.venue.clients import VenueClients

log = structlog.get_logger(__name__)

CONFIG_COMPONENT: Final = "config"
WATCH_DEBOUNCE_MS: Final = 100


class LiveNotConfirmed(Exception):
    """Live trading was not confirmed with both switches (see `polytail run --help`)."""


class Surface(Protocol):
    """Something that runs beside the engine: the web server, the notifier, a live view."""

    name: str
    stops_before_engine: bool  # True: stop taking requests before the engine shuts down

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def reload(self, config: PolytailConfig) -> None:
        """A hot reload was applied (new leader names, new notification settings, ...).
        Raising leaves this surface as it was; the rest of the reload stands."""
        ...

    def describe(self) -> str:
        """One line for the start banner ("web http://127.0.0.1:8750", ...)."""
        ...


@dataclass
class RunContext:
    """What a surface may use: everything is shared with the engine, nothing is copied."""

    config: PolytailConfig
    secrets: Secrets
    bus: EventBus
    service: StoreService
    health: HealthTracker
    clients: VenueClients
    controls: Controls
    engine: Engine


SurfaceFactory = Callable[[RunContext], Sequence[Surface]]
Say = Callable[[str], None]


def mode_badge(mode: Mode) -> str:
    return f"[{mode.value.upper()}]"


@dataclass
class Runner:
    config: PolytailConfig
    secrets: Secrets
    config_path: Path | None = None
    surfaces: Sequence[SurfaceFactory] = ()
    live_confirmed: bool = False
    install_signals: bool = True
    watch_files: bool = True
    by: str = "cli"  # who started it, for the audit log
    say: Say = print  # announcements (banner, ready, stop), each prefixed with the mode
    clock: Clock = field(default_factory=WallClock)
    environ: dict[str, str] | None = None  # for reloads; None: os.environ
    # set while running
    context: RunContext | None = field(default=None, init=False)
    ready: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _stop: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _reason: str = field(default="", init=False)
    _watch: WatchList | None = field(default=None, init=False)
    _surfaces: list[Surface] = field(default_factory=list, init=False)
    _background: set[asyncio.Future[object]] = field(default_factory=set, init=False)

    def announce(self, text: str) -> None:
        self.say(f"{mode_badge(self.config.mode)} {text}")

    def stop(self, reason: str = "requested") -> None:
        if not self._stop.is_set():
            self._reason = reason
            self._stop.set()

    # --- the run ---------------------------------------------------------------------------
    async def run(self) -> None:
        config = self.config
        if config.mode is Mode.LIVE and not self.live_confirmed:
            raise LiveNotConfirmed(
                "mode = 'live' needs `polytail run --live` and a typed confirmation "
                "(or --i-understand-live-trading for a service)"
            )
        structlog.contextvars.bind_contextvars(mode=config.mode.value)
        lock = InstanceLock(config.resolved_data_dir)
        lock.acquire()
        try:
            await self._run_locked()
        finally:
            lock.release()
            structlog.contextvars.unbind_contextvars("mode")

    async def _run_locked(self) -> None:
        store = await asyncio.to_thread(Store.from_config, self.config)
        clients = VenueClients.from_settings(self.config.venue, chain=self.config.feeds.chain)
        try:
            context, feeds = await self._assemble(store, clients)
        except BaseException:
            await clients.close()
            store.close()
            raise
        self.context = context
        self._audit("start", self.config.mode.value, {"pid": os.getpid(), "version": __version__})
        await self._serve(context, feeds)
        self.announce("stopped")

    async def _assemble(self, store: Store, clients: VenueClients) -> tuple[RunContext, Feeds]:
        """Everything the run needs, wired; nothing started yet."""
        config = self.config
        bus = EventBus()
        health = HealthTracker(required_components(config))
        bus.listen(health.on_event)
        breakers = BreakerWatch(bus)
        bus.listen(breakers.on_event)
        self._watch = WatchList.from_config(config)
        feeds = Feeds.build(
            config.feeds,
            clients,
            store,
            self._watch,
            rtds_url=config.venue.rtds_url,
            observer=BusObserver(bus),
        )
        engine = await self._build_engine(feeds, store, clients, bus)
        pipeline = engine.pipeline
        controls = Controls(
            config=config,
            store=store,
            clock=self.clock,
            bus=bus,
            apply=lambda kill, paused: pipeline.set_controls(kill_switch=kill, paused=paused),
        )
        pipeline.set_controls(kill_switch=controls.kill.engaged, paused=controls.paused)
        service = StoreService(
            config=config,
            store=store,
            controls=controls,
            clock=self.clock,
            health=health,
            breakers=breakers,
            engine=engine,
        )
        bus.listen(service.on_event)
        bus.listen(self._on_event)
        context = RunContext(config, self.secrets, bus, service, health, clients, controls, engine)
        return context, feeds

    async def _serve(self, context: RunContext, feeds: Feeds) -> None:
        """Start the surfaces, the feeds and the engine; on stop, take them down in order."""
        engine = context.engine
        surfaces = self._surfaces
        engine_stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        # The handlers stay installed while it stops: a second Ctrl-C changes nothing.
        with self._signals():
            try:
                for factory in self.surfaces:
                    for surface in factory(context):
                        await surface.start()
                        surfaces.append(surface)
                self._banner(surfaces, context.controls)
                engine_task = asyncio.create_task(engine.run(engine_stop), name="engine")
                tasks = [engine_task, asyncio.create_task(feeds.run(), name="feeds")]
                if self.watch_files:
                    tasks.append(asyncio.create_task(self._watch_files(), name="watch-files"))
                stopped = asyncio.create_task(self._stop.wait())
                await asyncio.wait({stopped, engine_task}, return_when=asyncio.FIRST_COMPLETED)
                stopped.cancel()
                if engine_task.done() and not self._stop.is_set():
                    engine_task.result()  # the engine ended on its own: raise its error
                    self.stop("the engine stopped")
                self.announce(f"stopping ({self._reason})")
                self._audit("stop", self._reason, {})
            finally:
                self._stop.set()  # an error on the way up stops it too
                await self._take_down(engine, tasks, engine_stop)

    async def _take_down(
        self, engine: Engine, tasks: list[asyncio.Task[None]], engine_stop: asyncio.Event
    ) -> None:
        """The feeds first (no new fills), then the surfaces that must not outlive the
        engine (the web: no new requests; the demo's summary, once the work in hand is
        done), then the engine (work in hand, resting orders, clients, store), then the
        notifier (flush)."""
        engine_task, others = (tasks[0], tasks[1:]) if tasks else (None, [])
        for task in others:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for surface in self._surfaces:
            if surface.stops_before_engine:
                await _quietly(surface.stop(), surface.name)
        engine_stop.set()
        if engine_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await engine_task
        else:  # never started: the engine still owns the clients and the store
            await engine.shutdown()
        for surface in reversed(self._surfaces):
            if not surface.stops_before_engine:
                await _quietly(surface.stop(), surface.name)

    async def _build_engine(
        self, feeds: Feeds, store: Store, clients: VenueClients, bus: EventBus
    ) -> Engine:
        fills = aiter(feeds.merger)
        if self.config.mode is Mode.LIVE:
            return await build_live(
                self.config, self.secrets, fills=fills, store=store, venue=clients, bus=bus
            )
        return await build_paper(
            self.config, fills=fills, store=store, venue=clients, clock=None, bus=bus
        )

    def _banner(self, surfaces: Sequence[Surface], controls: Controls) -> None:
        config = self.config
        feeds = [
            name
            for name, on in (
                ("stream", config.feeds.stream.enabled),
                ("poll", config.feeds.poll.enabled),
                ("chain", config.feeds.chain.enabled),
            )
            if on
        ]
        watched = len(watched_addresses(config))
        self.announce(
            f"polytail {__version__} running: account {config.account}, "
            f"{watched} leader(s) watched, feeds {'+'.join(feeds)}, "
            f"data {config.resolved_data_dir}"
        )
        for surface in surfaces:
            line = surface.describe()
            if line:
                self.announce(line)
        if controls.kill.engaged:
            self.announce(
                f"kill switch ENGAGED (by {controls.kill.source}): no order will be sent; "
                "`polytail kill off` releases it"
            )

    # --- events, reloads, files, signals --------------------------------------------------
    def _on_event(self, event: Event) -> None:
        context = self.context
        if (
            type(event) is ComponentStatus
            and not self.ready.is_set()
            and context is not None
            and context.health.readiness().ready
        ):
            self.ready.set()
            self.announce("ready: feeds connected, broker answering, reconciliation done")

    async def reload(self, by: str = "signal") -> bool:
        """Re-read the config file and apply what can change while running.

        An invalid file changes nothing: the running configuration stays in force and the
        error is logged and published. True when something was applied.
        """
        context = self.context
        if context is None or self.config_path is None:
            log.warning("reload: no config file to read", by=by)
            return False
        if self._stop.is_set():
            return False  # stopping: nothing to apply it to
        environ = dict(os.environ) if self.environ is None else self.environ
        try:
            new = await asyncio.to_thread(
                load_config, self.config_path, environ, use_default_file=False
            )
        except ConfigError as error:
            message = f"config reload rejected, the running configuration stays: {error}"
            log.error(message, by=by)
            context.bus.publish(EngineError(CONFIG_COMPONENT, message, self.clock.now_ms()))
            self._audit("config_rejected", str(self.config_path), {"by": by, "error": str(error)})
            return False
        plan = plan_reload(self.config, new)
        if not plan.changed:
            log.info("config reload: nothing changed", by=by)
            return False
        engine = context.engine
        if plan.applied:
            async with engine.lock:
                added = engine.reload(plan.config)
                context.service.config = plan.config
                self.config = context.config = plan.config
                if engine.ready.is_set():
                    bankroll = engine.bankroll_leaders()
                    for leader in added:
                        await engine.pipeline.watch_leader(leader, value=leader in bankroll)
            if self._watch is not None:
                self._watch.update(watched_addresses(plan.config))
            for surface in self._surfaces:
                try:
                    await surface.reload(plan.config)
                except Exception as error:
                    message = f"{surface.name}: new settings not applied ({error}); kept as before"
                    log.error(message)
                    context.bus.publish(EngineError(CONFIG_COMPONENT, message, self.clock.now_ms()))
        if plan.deferred:
            log.warning("config keys need a restart; the running values stay", keys=plan.deferred)
        detail = {"by": by, "applied": list(plan.applied), "deferred": list(plan.deferred)}
        self._audit("config_reload", str(self.config_path), detail)
        context.bus.publish(ConfigReloaded(plan.applied, self.clock.now_ms()))
        self.announce(
            f"config reloaded: {', '.join(plan.applied) or 'nothing applied'}"
            + (f"; needs a restart: {', '.join(plan.deferred)}" if plan.deferred else "")
        )
        return bool(plan.applied)

    async def _watch_files(self) -> None:
        from watchfiles import awatch  # noqa: PLC0415 - only when running

        context = self.context
        assert context is not None
        kill_file = context.controls.path.resolve()
        config_file = self.config_path.resolve() if self.config_path else None
        folders = {kill_file.parent}
        if config_file is not None:
            folders.add(config_file.parent)
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
        wanted = {str(kill_file)} | ({str(config_file)} if config_file else set())
        async for changes in awatch(
            *folders,
            watch_filter=lambda _, path: path in wanted,
            debounce=WATCH_DEBOUNCE_MS,
            step=20,
            recursive=False,
            stop_event=self._stop,
        ):
            paths = {path for _, path in changes}
            if str(kill_file) in paths:
                context.controls.sync_file()
            if config_file is not None and str(config_file) in paths and config_file.exists():
                await self.reload(by="file")

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        if not self.install_signals:
            yield
            return
        loop = asyncio.get_running_loop()
        handlers: dict[signal.Signals, Callable[[], None]] = {
            signal.SIGINT: lambda: self.stop("SIGINT"),
            signal.SIGTERM: lambda: self.stop("SIGTERM"),
            signal.SIGHUP: lambda: self._spawn(self.reload(by="SIGHUP")),
            signal.SIGUSR1: self._toggle_kill,
        }
        for signum, handler in handlers.items():
            loop.add_signal_handler(signum, handler)
        try:
            yield
        finally:
            for signum in handlers:
                loop.remove_signal_handler(signum)

    def _toggle_kill(self) -> None:
        if self.context is not None:
            self.context.controls.toggle_kill(by="SIGUSR1")

    def _spawn(self, work: Awaitable[object]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _audit(self, action: str, subject: str, detail: Mapping[str, object]) -> None:
        context = self.context
        if context is None:
            return
        entry = AuditEntry(
            self.clock.now_ms(), self.by, action, subject, account_id(self.config.account), detail
        )
        try:
            with context.engine.store.transaction() as tx:
                tx.audit.append(entry)
        except Exception:  # the store may be closing; the log line says it all the same
            log.exception("audit log write failed", action=action)


async def _quietly(work: Awaitable[None], name: str) -> None:
    try:
        await work
    except Exception:
        log.exception("stopping failed", surface=name)

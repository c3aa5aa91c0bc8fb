"""What `polytail run` adds beside the engine: the web server (health, readiness, metrics,
dashboard) and the notifier (Telegram, webhooks), both over the one service layer.

Wired here because `cli` is the one layer that sees both `web` and `notify` (they never
import each other); the runner in `app` only knows them as `Surface`s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from polytail.app.runner import RunContext, Surface
    from polytail.config.schema import PolytailConfig
    from polytail.notify.notifier import Notifier
    from polytail.web.server import WebServer


class WebSurface:
    name = "web"
    stops_before_engine = True

    def __init__(self, server: WebServer, *, token_set: bool) -> None:
        self.server = server
        self.token_set = token_set

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    async def reload(self, config: PolytailConfig) -> None:
        return None

    def describe(self) -> str:
        guard = (
            "dashboard, /ready and /metrics need the dashboard token"
            if self.token_set
            else "set POLYTAIL_DASHBOARD_TOKEN to open the dashboard, /ready and /metrics"
        )
        return f"web {self.server.url} (/health open; {guard})"


class NotifierSurface:
    """The notifier; a reload that changes `[notify]` replaces it with a new one (the old
    one sends what it has queued first). `/metrics` reads whichever is current."""

    name = "notify"
    stops_before_engine = False  # after the engine: the shutdown's own events go out too

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.settings = context.config.notify
        self.notifier = self._build(context.config)

    def _build(self, config: PolytailConfig) -> Notifier:
        from polytail.notify.notifier import Notifier  # noqa: PLC0415

        context = self.context
        return Notifier.from_config(config, context.secrets, context.bus, context.service)

    def snapshot(self) -> Mapping[str, float]:
        return self.notifier.snapshot()

    async def start(self) -> None:
        await self.notifier.start()

    async def stop(self) -> None:
        await self.notifier.stop()

    async def reload(self, config: PolytailConfig) -> None:
        from polytail.domain.ids import Address  # noqa: PLC0415

        if config.notify != self.settings:
            replacement = self._build(config)  # raises on unusable settings: nothing changes
            await replacement.start()
            # no await between the two: every event goes to exactly one of them
            previous, self.notifier, self.settings = self.notifier, replacement, config.notify
            await previous.stop()
        self.notifier.update_labels({Address(x.address): x.label for x in config.leaders})

    def describe(self) -> str:
        names = [channel.name for channel in self.notifier.channels]
        return f"notifications: {', '.join(names)}" if names else ""


def operator_surfaces(context: RunContext) -> list[Surface]:
    """Metrics on the bus, the notifier and (when `web.enabled`) the web server."""
    from polytail.web.app import create_app  # noqa: PLC0415
    from polytail.web.metrics import EngineMetrics  # noqa: PLC0415
    from polytail.web.server import WebServer  # noqa: PLC0415

    config = context.config
    metrics = EngineMetrics()
    metrics.attach(context.bus)
    metrics.add_stats("venue", context.clients.stats)
    notifier = NotifierSurface(context)
    metrics.add_stats("notify", notifier)
    surfaces: list[Surface] = []
    if config.web.enabled:
        token = context.secrets.dashboard_token
        app = create_app(context.service, metrics, token)
        server = WebServer(app, config.web.host, config.web.port)
        surfaces.append(WebSurface(server, token_set=token is not None))
    surfaces.append(notifier)
    return surfaces

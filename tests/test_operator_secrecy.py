"""Planted tokens never come out: not in HTTP responses, HTML, log lines or chat messages.

Both operator secrets are live here (the dashboard token guarding the HTTP API, the bot
token inside every Bot API URL), logging runs at DEBUG with the HTTP client libraries
turned up too, and the token even appears inside an engine error message, the way a
careless exception would carry it.
"""

from __future__ import annotations

import asyncio

import httpx

from polytail.app.health import HealthTracker
from polytail.config.schema import Mode
from polytail.config.secrets import Secret
from polytail.domain.decisions import ReasonCode
from polytail.engine.events import DecisionMade, EngineError, EventBus
from polytail.notify.commands import CommandProcessor
from polytail.notify.notifier import Notifier
from polytail.notify.render import Renderer
from polytail.notify.telegram import TelegramChannel
from polytail.web.app import create_app
from polytail.web.metrics import EngineMetrics
from polytail.web.server import WebServer
from tests.support.fake_telegram import FakeBotApi
from tests.support.logs import captured_logs
from tests.support.samples import ACCOUNT, ALICE, T0, fill, skip_decision
from tests.support.service import InMemoryService

DASHBOARD_TOKEN = "planted-dashboard-token-8cJ2nQ0vXw"
TELEGRAM_TOKEN = "5550001:planted-telegram-token-Hq7Lm2Pz"
CHAT = 31337


async def test_neither_token_ever_leaves_the_process() -> None:
    bus = EventBus()
    service = InMemoryService(HealthTracker(["broker"]))
    service.attach(bus)
    service.add_leader(ALICE, "alice")
    metrics = EngineMetrics()
    metrics.attach(bus)
    api = FakeBotApi(TELEGRAM_TOKEN)
    seen: list[str] = []

    with captured_logs("DEBUG", loud=("httpx", "httpcore", "telegram", "uvicorn")) as logs:
        async with WebServer(api.app) as telegram_server:
            renderer = Renderer(Mode.PAPER)
            telegram = TelegramChannel(
                Secret(TELEGRAM_TOKEN),
                str(CHAT),
                mode=Mode.PAPER,
                account=ACCOUNT,
                api_url=telegram_server.url,
                commands=CommandProcessor(service, renderer),
                min_interval_s=0.01,
                poll_timeout_s=0.3,
            )
            notifier = Notifier(
                bus=bus,
                service=service,
                channels=[telegram],
                renderer=renderer,
                account=ACCOUNT,
            )
            app = create_app(service, metrics, Secret(DASHBOARD_TOKEN))
            async with WebServer(app) as web, httpx.AsyncClient(base_url=web.url) as client:
                await notifier.start()
                await asyncio.wait_for(telegram.ready.wait(), 10)
                bus.publish(DecisionMade(skip_decision(fill(1), ReasonCode.FILTER_SPREAD)))
                bus.publish(
                    EngineError(
                        "broker",
                        f"auth failed for {TELEGRAM_TOKEN} and {DASHBOARD_TOKEN}",
                        at_ms=T0,
                    )
                )
                api.push_command("/status", chat_id=CHAT)
                api.push_command("/pause alice", chat_id=CHAT)
                good = {"Authorization": f"Bearer {DASHBOARD_TOKEN}"}
                bad = {"Authorization": f"Bearer {DASHBOARD_TOKEN}x"}
                for path in [
                    "/",
                    "/static/dashboard.js",
                    "/health",
                    "/ready",
                    "/metrics",
                    "/api/overview",
                    "/api/digest",
                    "/api/decisions?why=f1",
                ]:
                    for headers in (good, bad, {}):
                        response = await client.get(path, headers=headers)
                        seen.append(str(response.headers) + response.text)
                response = await client.post(
                    "/api/kill-switch", headers=good, json={"engaged": True}
                )
                seen.append(str(response.headers) + response.text)
                texts = await api.wait_for_messages(3)
                await notifier.stop()

    everything = "\n".join([*seen, *texts, logs.getvalue()])
    assert "Error in broker: auth failed for *** and ***" in "\n".join(texts)
    assert any("Leader alice" in text for text in texts)
    assert "bot***" in logs.getvalue()  # the Bot API URLs were logged, masked
    for token in (DASHBOARD_TOKEN, TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1]):
        assert token not in everything

"""A real uvicorn server on a free loopback port, in front of the in-memory service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest

from polytail.app.health import HealthTracker
from polytail.config.secrets import Secret
from polytail.domain.decisions import ReasonCode
from polytail.domain.money import Usdc
from polytail.engine.events import DecisionMade, EventBus
from polytail.web.app import create_app
from polytail.web.metrics import EngineMetrics
from polytail.web.server import WebServer
from tests.support.samples import ALICE, BOB, fill, skip_decision
from tests.support.service import InMemoryService, alice_position

TOKEN = "dashboard-token-Zq81-kq2-NotReal"
REQUIRED = ("feed.stream", "feed.poll", "broker", "reconciliation")


@dataclass
class Served:
    bus: EventBus
    service: InMemoryService
    metrics: EngineMetrics
    server: WebServer
    client: httpx.AsyncClient

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}


def populated(bus: EventBus) -> InMemoryService:
    service = InMemoryService(HealthTracker(REQUIRED))
    service.attach(bus)
    service.add_leader(ALICE, "alice", copies=3, budget_used=Usdc.parse("10.4"))
    service.add_leader(BOB, "bob")
    service.hold(alice_position(), "Will it rain tomorrow?", "Yes", Decimal("0.55"))
    bus.publish(DecisionMade(skip_decision(fill(7, leader=BOB), ReasonCode.FILTER_PRICE_BAND)))
    return service


async def serve(token: str | None) -> AsyncIterator[Served]:
    bus = EventBus()
    metrics = EngineMetrics()
    metrics.attach(bus)
    service = populated(bus)
    app = create_app(service, metrics, Secret(token) if token else None, poll_ms=200)
    async with (
        WebServer(app, "127.0.0.1", 0) as server,
        httpx.AsyncClient(base_url=server.url, timeout=5) as client,
    ):
        yield Served(bus, service, metrics, server, client)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    async for item in serve(TOKEN):
        yield item


@pytest.fixture
async def served_without_token() -> AsyncIterator[Served]:
    async for item in serve(None):
        yield item

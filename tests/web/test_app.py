"""The HTTP surface over real HTTP: open health, token-guarded everything else."""

from __future__ import annotations

import signal

import httpx
import pytest

from polytail.app.health import HealthTracker
from polytail.config.secrets import Secret
from polytail.domain.fills import FeedSource
from polytail.engine.events import (
    ComponentState,
    ComponentStatus,
    DecisionMade,
    EventBus,
    FillDetected,
    FillSighted,
)
from polytail.web.app import create_app
from polytail.web.auth import TokenError
from polytail.web.metrics import EngineMetrics
from polytail.web.server import WebServer
from tests.support.prom import value
from tests.support.samples import ALICE, BOB, copy_decision, fill
from tests.support.service import InMemoryService
from tests.web.conftest import REQUIRED, TOKEN, Served

GUARDED = ["/ready", "/metrics", "/api/status", "/api/overview", "/api/leaders"]


async def test_health_is_open_and_says_alive(served: Served) -> None:
    response = await served.client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "alive"}


@pytest.mark.parametrize("path", GUARDED)
async def test_everything_else_needs_the_token(served: Served, path: str) -> None:
    missing = await served.client.get(path)
    assert missing.status_code == 401
    assert "Authorization: Bearer" in missing.json()["error"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = await served.client.get(path, headers={"Authorization": "Bearer " + TOKEN[:-1]})
    assert wrong.status_code == 401 and "wrong token" in wrong.json()["error"]
    basic = await served.client.get(path, headers={"Authorization": "Basic " + TOKEN})
    assert basic.status_code == 401
    assert (await served.client.get(path, headers=served.auth)).status_code in (200, 503)


async def test_actions_need_the_token_too(served: Served) -> None:
    response = await served.client.post("/api/kill-switch", json={"engaged": True})
    assert response.status_code == 401
    assert served.service.calls == [] and not served.service.kill.engaged


async def test_without_a_configured_token_only_health_is_served(
    served_without_token: Served,
) -> None:
    client = served_without_token.client
    assert (await client.get("/health")).status_code == 200
    for path in [*GUARDED, "/", "/static/dashboard.js"]:
        response = await client.get(path, headers={"Authorization": "Bearer anything-at-all"})
        assert response.status_code == 403, path
        assert "POLYTAIL_DASHBOARD_TOKEN" in response.json()["error"]


def test_a_weak_token_is_refused_at_startup() -> None:
    with pytest.raises(TokenError, match="too short") as error:
        create_app(InMemoryService(HealthTracker([])), EngineMetrics(), Secret("short-tok"))
    assert "short-tok" not in str(error.value)


async def test_ready_is_503_until_every_required_component_is_up(served: Served) -> None:
    response = await served.client.get("/ready", headers=served.auth)
    assert response.status_code == 503
    assert response.json()["waiting_for"] == list(REQUIRED)
    for component in REQUIRED[:-1]:
        served.bus.publish(ComponentStatus(component, ComponentState.READY, "", at_ms=1))
    served.bus.publish(ComponentStatus("feed.stream", ComponentState.DEGRADED, "stale", at_ms=2))
    response = await served.client.get("/ready", headers=served.auth)
    assert response.status_code == 503 and response.json()["waiting_for"] == ["reconciliation"]
    served.bus.publish(ComponentStatus("reconciliation", ComponentState.READY, "done", at_ms=3))
    response = await served.client.get("/ready", headers=served.auth)
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    states = {c["component"]: c["state"] for c in body["components"]}
    assert states["feed.stream"] == "degraded"


async def test_metrics_expose_events_and_account_figures(served: Served) -> None:
    bus = served.bus
    bus.publish(FillSighted(FeedSource.STREAM, False, at_ms=1))
    bus.publish(FillSighted(FeedSource.POLL, True, at_ms=1))
    bus.publish(FillDetected(fill(1), at_ms=1, detection_ms=1500))
    bus.publish(DecisionMade(copy_decision(fill(1))))
    response = await served.client.get("/metrics", headers=served.auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    out = response.text
    assert value(out, "polytail_fills_sighted_total", source="poll", duplicate="true") == 1
    assert value(out, "polytail_detection_latency_seconds_sum", source="stream") == 1.5
    assert value(out, "polytail_decisions_total", action="copy", reason="copied") == 1
    assert value(out, "polytail_decisions_total", action="skip", reason="filter_price_band") == 1
    # from the service layer, read on scrape: 1000 cash + 20 shares at 0.55
    assert value(out, "polytail_cash_usdc") == 1000
    assert value(out, "polytail_equity_usdc") == 1011
    assert value(out, "polytail_exposure_usdc") == 10.4
    assert value(out, "polytail_pnl_usdc", period="total", kind="unrealized") == 0.6
    assert value(out, "polytail_positions") == 1
    assert value(out, "polytail_ready") == 0
    assert value(out, "polytail_info", mode="paper", account="default") == 1


async def test_metrics_survive_a_broken_service(served: Served) -> None:
    served.service.broken = True
    response = await served.client.get("/metrics", headers=served.auth)
    assert response.status_code == 200
    assert value(response.text, "polytail_metrics_refresh_errors_total") == 1


async def test_the_api_speaks_the_service_layer_with_exact_money(served: Served) -> None:
    status = (await served.client.get("/api/status", headers=served.auth)).json()
    assert status["mode"] == "paper" and status["cash"] == "1000" and status["equity"] == "1011"
    assert status["pnl_total"] == {"realized": "0", "unrealized": "0.6", "total": "0.6"}
    assert status["uptime_s"] == 3600
    positions = (await served.client.get("/api/positions", headers=served.auth)).json()
    assert positions[0]["shares"] == "20" and positions[0]["average_cost"] == "0.52"
    why = fill(7, leader=BOB).fill_id
    found = (await served.client.get(f"/api/decisions?why={why}", headers=served.auth)).json()
    assert [d["decision"]["reasons"] for d in found] == [["filter_price_band"]]
    assert found[0]["explanations"][0].startswith("filter_price_band: the price was outside")
    none = (await served.client.get("/api/decisions?why=f404", headers=served.auth)).json()
    assert none == []


async def test_pause_resume_and_kill_switch_reach_the_service(served: Served) -> None:
    client, auth = served.client, served.auth
    paused = await client.post("/api/leaders/alice/pause", headers=auth)
    assert paused.status_code == 200 and paused.json()["paused"] is True
    resumed = await client.post(f"/api/leaders/{ALICE}/resume", headers=auth)
    assert resumed.json()["copying"] is True
    killed = await client.post("/api/kill-switch", headers=auth, json={"engaged": True})
    assert killed.json() == {"engaged": True, "source": "dashboard", "since_ms": 1767229200000}
    assert served.service.calls == [("pause", ALICE), ("resume", ALICE), ("kill", "dashboard")]


async def test_an_unknown_leader_is_a_404_naming_the_watched_ones(served: Served) -> None:
    response = await served.client.post("/api/leaders/dave/pause", headers=served.auth)
    assert response.status_code == 404
    assert "no watched leader matches 'dave'" in response.json()["error"]
    assert "alice" in response.json()["error"]


async def test_bad_input_gets_a_clear_422(served: Served) -> None:
    response = await served.client.post(
        "/api/kill-switch", headers=served.auth, json={"engaged": "maybe"}
    )
    assert response.status_code == 422
    limit = await served.client.get("/api/decisions?limit=0", headers=served.auth)
    assert limit.status_code == 422


async def test_responses_carry_protective_headers(served: Served) -> None:
    page = await served.client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    api = await served.client.get("/api/status", headers=served.auth)
    assert api.headers["cache-control"] == "no-store"
    script = await served.client.get("/static/dashboard.js")
    assert script.status_code == 200 and "text/javascript" in script.headers["content-type"]
    assert (await served.client.get("/static/../app.py")).status_code == 404


async def test_the_server_leaves_signals_to_its_host_and_reports_a_busy_port() -> None:
    before = signal.getsignal(signal.SIGINT)
    app = create_app(InMemoryService(HealthTracker([])), EngineMetrics(), Secret(TOKEN))
    async with WebServer(app, "127.0.0.1", 0) as first:
        url = first.url
        assert signal.getsignal(signal.SIGINT) is before
        second = WebServer(app, "127.0.0.1", first.port)
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            await second.start()
        async with httpx.AsyncClient() as client:
            assert (await client.get(url + "/health")).status_code == 200
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(url + "/health")


async def test_an_engine_without_events_still_answers(served: Served) -> None:
    bus = EventBus()
    service = InMemoryService(HealthTracker(["broker"]))
    service.attach(bus)
    app = create_app(service, EngineMetrics(), Secret(TOKEN))
    async with WebServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
        overview = (await client.get("/api/overview", headers=served.auth)).json()
    assert overview["positions"] == [] and overview["decisions"] == []
    assert overview["status"]["health"]["waiting_for"] == ["broker"]

"""The HTTP surface: health, readiness, Prometheus metrics, a JSON API and the dashboard.

A thin transport over the service layer: every answer comes from `OperatorService`, so the
dashboard, Telegram and the CLI never disagree. Only `/health` is open; everything else
needs the bearer token (`polytail.web.auth`). The dashboard page and its two assets hold
no data (every figure comes from the token-protected API), so they are served to anyone
once a token is configured; the browser sends the token in a header, never a cookie.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Annotated, Any, Final

import jinja2
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from polytail.app.jsonable import jsonable
from polytail.app.services import OperatorService, ServiceError, UnknownLeader
from polytail.config.redaction import scrub
from polytail.config.secrets import Secret
from polytail.domain.ids import FillId
from polytail.web.auth import AuthFailure, TokenGuard
from polytail.web.metrics import EngineMetrics

SOURCE_LABEL: Final = "dashboard"
DEFAULT_POLL_MS: Final = 3000
_ASSETS: Final = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class KillSwitchRequest(BaseModel):
    engaged: bool


def _json(value: object, status: int = 200) -> JSONResponse:
    return JSONResponse(jsonable(value), status_code=status)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": scrub(message)}, status_code=status)


def _load_assets() -> dict[str, bytes]:
    folder = resources.files("polytail.web") / "static"
    return {name: (folder / name).read_bytes() for name in _ASSETS}


def _render_dashboard(assets: dict[str, bytes], poll_ms: int) -> bytes:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("polytail.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    digest = hashlib.sha256(b"".join(assets.values())).hexdigest()[:12]
    return (
        environment.get_template("dashboard.html").render(version=digest, poll_ms=poll_ms).encode()
    )


def create_app(
    service: OperatorService,
    metrics: EngineMetrics,
    token: Secret | None,
    *,
    poll_ms: int = DEFAULT_POLL_MS,
) -> FastAPI:
    """The ASGI app. Raises `auth.TokenError` when the token is set but too weak."""
    guard = TokenGuard(token)
    assets = _load_assets()
    page = _render_dashboard(assets, poll_ms)
    app = FastAPI(
        title="polytail", docs_url=None, redoc_url=None, openapi_url=None, redirect_slashes=False
    )

    def authorized(authorization: Annotated[str | None, Header()] = None) -> None:
        guard.check(authorization)

    def configured() -> None:
        """Static parts need no token, but are refused while none is configured."""
        if not guard.configured:
            guard.check(None)

    token_required = [Depends(authorized)]
    token_configured = [Depends(configured)]

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(AuthFailure)
    async def auth_failed(_: Request, failure: AuthFailure) -> Response:
        response = _error(failure.status, failure.message)
        if failure.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="polytail"'
        return response

    @app.exception_handler(UnknownLeader)
    async def unknown_leader(_: Request, error: UnknownLeader) -> Response:
        return _error(404, str(error))

    @app.exception_handler(ServiceError)
    async def service_error(_: Request, error: ServiceError) -> Response:
        return _error(409, str(error))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, __: Exception) -> Response:
        # Starlette re-raises after this, so the server logs the traceback (redacted).
        return _error(500, "internal error; the log has the details")

    # --- open -----------------------------------------------------------------------
    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "alive"}

    # --- operators and Prometheus ---------------------------------------------------
    @app.get("/ready", dependencies=token_required)
    async def ready() -> Response:
        readiness = await service.readiness()
        body = {
            "ready": readiness.ready,
            "waiting_for": list(readiness.waiting_for),
            "components": readiness.components,
        }
        return _json(body, 200 if readiness.ready else 503)

    @app.get("/metrics", dependencies=token_required)
    async def prometheus() -> Response:
        await metrics.refresh(service)
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    # --- JSON API -----------------------------------------------------------------------
    @app.get("/api/status", dependencies=token_required)
    async def status() -> Response:
        return _json(await service.status())

    @app.get("/api/positions", dependencies=token_required)
    async def positions() -> Response:
        return _json(await service.positions())

    @app.get("/api/orders", dependencies=token_required)
    async def orders(
        open_only: bool = True, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> Response:
        return _json(await service.orders(open_only=open_only, limit=limit))

    @app.get("/api/leaders", dependencies=token_required)
    async def leaders() -> Response:
        return _json(await service.leaders())

    @app.get("/api/decisions", dependencies=token_required)
    async def decisions(
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        why: Annotated[str | None, Query(max_length=80)] = None,
    ) -> Response:
        fill = FillId(why.strip()) if why and why.strip() else None
        return _json(await service.decisions(limit=limit, why=fill))

    @app.get("/api/digest", dependencies=token_required)
    async def digest(day: dt.date | None = None) -> Response:
        return _json(await service.daily_digest(day))

    @app.get("/api/overview", dependencies=token_required)
    async def overview() -> Response:
        """Everything the dashboard shows, in one request per poll."""
        parts: tuple[Any, ...] = await asyncio.gather(
            service.status(),
            service.positions(),
            service.orders(open_only=True),
            service.leaders(),
            service.decisions(limit=50),
        )
        names = ("status", "positions", "orders", "leaders", "decisions")
        return _json(dict(zip(names, parts, strict=True)))

    @app.post("/api/leaders/{leader}/pause", dependencies=token_required)
    async def pause(leader: str) -> Response:
        return _json(await service.pause_leader(leader, by=SOURCE_LABEL))

    @app.post("/api/leaders/{leader}/resume", dependencies=token_required)
    async def resume(leader: str) -> Response:
        return _json(await service.resume_leader(leader, by=SOURCE_LABEL))

    @app.post("/api/kill-switch", dependencies=token_required)
    async def kill_switch(request: KillSwitchRequest) -> Response:
        return _json(await service.set_kill_switch(request.engaged, by=SOURCE_LABEL))

    # --- dashboard ----------------------------------------------------------------------
    @app.get("/", dependencies=token_configured)
    async def dashboard() -> Response:
        return HTMLResponse(page)

    @app.get("/static/{name}", dependencies=token_configured)
    async def asset(name: str) -> Response:
        if name not in assets:
            return _error(404, f"no asset {name!r}")
        # Versioned URLs (?v=<digest>): safe to cache.
        return Response(
            assets[name],
            media_type=_ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400, immutable"},
        )

    return app

"""What the HTTP routes share: JSON replies in the venue's error shape, query parsing."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response


class ApiError(Exception):
    """Turned into `{"error": message}` with the given status, as the venue replies."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def error_reply(error: ApiError) -> Response:
    return reply({"error": error.message, **error.extra}, error.status)


def service_path(request: Request, prefix: str) -> str:
    """The request path as the real service sees it (our mount prefix removed)."""
    return request.url.path.removeprefix(prefix) or "/"


def query(request: Request, *names: str, default: str | None = None) -> str | None:
    """The first of several spellings of a query parameter (v2 accepts snake and camel)."""
    for name in names:
        value = request.query_params.get(name)
        if value is not None and value != "":
            return value
    return default


def query_list(request: Request, *names: str) -> list[str]:
    """Values given repeated or comma-separated, under any of the spellings."""
    values: list[str] = []
    for name in names:
        for raw in request.query_params.getlist(name):
            values.extend(part for part in raw.split(",") if part)
    return values


def query_int(
    request: Request, *names: str, default: int, low: int = 0, high: int | None = None
) -> int:
    raw = query(request, *names)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"invalid {names[0]}: {raw!r} is not an integer") from None
    if value < low or (high is not None and value > high):
        raise ApiError(400, f"invalid {names[0]}: {value} is out of range")
    return value


def query_bool(request: Request, *names: str, default: bool) -> bool:
    raw = query(request, *names)
    if raw is None:
        return default
    return raw.lower() in ("1", "true", "yes")


async def json_body(request: Request) -> tuple[str, Any]:
    raw = (await request.body()).decode()
    if not raw:
        return raw, None
    try:
        return raw, json.loads(raw)
    except json.JSONDecodeError:
        raise ApiError(400, "Invalid order payload") from None

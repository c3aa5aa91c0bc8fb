"""Generic webhooks: one JSON POST per notice, retried with backoff, never blocking.

Payload (stable; documented in docs/OPERATIONS.md):

    {"kind": "copy", "mode": "paper", "account": "default", "at_ms": 1767225600000,
     "text": "[PAPER] Bought ...", "data": {...the notice's facts, money as strings...}}

Retries: network errors, 408, 429 and 5xx, honouring `Retry-After` (seconds), with
exponential backoff up to `max_attempts`; other 4xx answers are the receiver's verdict
and are not retried. A webhook URL often embeds a credential (Slack, Discord), so it is
registered with the redactor and logs show only its host.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Final
from urllib.parse import urlsplit

import httpx
import structlog

from polytail.config.redaction import register_secrets
from polytail.notify.notices import Message, NoticeKind
from polytail.notify.outbox import DEFAULT_CAPACITY, Outbox

log = structlog.get_logger(__name__)

RETRY_STATUSES: Final = frozenset({408, 425, 429, 500, 502, 503, 504})
Sleep = Callable[[float], Awaitable[None]]


def payload(message: Message) -> dict[str, object]:
    return {
        "kind": message.kind.value if message.kind is not None else "reply",
        "mode": message.mode.value,
        "account": message.account,
        "at_ms": message.at_ms,
        "text": message.text,
        "data": dict(message.data),
    }


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP date or garbage: use our own backoff


class WebhookChannel:
    def __init__(
        self,
        url: str,
        kinds: Iterable[NoticeKind],
        *,
        client: httpx.AsyncClient | None = None,
        timeout_s: float = 10.0,
        max_attempts: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        capacity: int = DEFAULT_CAPACITY,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        register_secrets([url])
        self.kinds = frozenset(kinds)
        self.name = f"webhook:{urlsplit(url).hostname or '?'}"
        self._url = url
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout_s
        self._max_attempts = max_attempts
        self._backoff = backoff_s
        self._max_backoff = max_backoff_s
        self._sleep = sleep
        self._outbox = Outbox(capacity)
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0
        self.retries = 0

    def offer(self, message: Message) -> None:
        if message.kind in self.kinds:
            self._outbox.put(message)

    async def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout, headers={"User-Agent": "polytail-notifier"}
            )
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self, flush_timeout_s: float = 2.0) -> None:
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.drained(), flush_timeout_s)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def snapshot(self) -> Mapping[str, float]:
        return {
            f"messages_sent_total/{self.name}": self.sent,
            f"messages_failed_total/{self.name}": self.failed,
            f"messages_dropped_total/{self.name}": self._outbox.dropped,
            f"retries_total/{self.name}": self.retries,
            f"queued/{self.name}": len(self._outbox),
        }

    async def _run(self) -> None:
        while True:
            message = await self._outbox.next()
            try:
                await self._post(message)
            except Exception:  # never lose the channel to a surprise
                self.failed += 1
                log.exception("webhook delivery failed", channel=self.name)
            finally:
                self._outbox.done()

    async def _post(self, message: Message) -> None:
        assert self._client is not None
        body = payload(message)
        delay = self._backoff
        for attempt in range(1, self._max_attempts + 1):
            wait: float | None = None
            try:
                response = await self._client.post(self._url, json=body)
            except httpx.HTTPError as error:
                problem = f"{type(error).__name__}"
            else:
                if response.is_success:
                    self.sent += 1
                    return
                if response.status_code not in RETRY_STATUSES:
                    self.failed += 1
                    log.error(
                        "webhook refused the notification; not retrying",
                        channel=self.name,
                        status=response.status_code,
                    )
                    return
                problem = f"HTTP {response.status_code}"
                wait = _retry_after(response)
            if attempt == self._max_attempts:
                break
            self.retries += 1
            pause = min(self._max_backoff, wait if wait is not None else delay)
            log.warning(
                "webhook delivery failed; retrying",
                channel=self.name,
                problem=problem,
                attempt=attempt,
                retry_in_s=pause,
            )
            await self._sleep(pause)
            delay = min(self._max_backoff, delay * 2)
        self.failed += 1
        log.error("webhook delivery gave up", channel=self.name, attempts=self._max_attempts)

"""Webhooks over real HTTP to a loopback receiver: format, filtering, retries, give-up."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from polytail.config.schema import Mode
from polytail.notify.notices import Message, NoticeKind
from polytail.notify.webhooks import WebhookChannel
from polytail.web.server import WebServer
from tests.support.logs import captured_logs
from tests.support.receiver import WebhookReceiver
from tests.support.samples import ACCOUNT, T0

SECRET_PATH = "T000-hook-credential-9f8e7d"


def message(kind: NoticeKind, text: str = "hello") -> Message:
    return Message(
        text=f"[PAPER] {text}",
        mode=Mode.PAPER,
        account=ACCOUNT,
        at_ms=T0,
        kind=kind,
        data={"notional": "10.4"},
    )


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver()
    async with WebServer(hook.app) as server:
        yield hook, f"{server.url}/hook/{SECRET_PATH}"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


async def test_a_notice_is_posted_as_documented_json(
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hook, url = receiver
    channel = WebhookChannel(url, [NoticeKind.COPY, NoticeKind.DIGEST])
    await channel.start()
    channel.offer(message(NoticeKind.SKIP, "not wanted"))
    channel.offer(message(NoticeKind.COPY, "Bought 20 sh"))
    (body,) = await hook.wait_for(1)
    await channel.stop()
    assert body == {
        "kind": "copy",
        "mode": "paper",
        "account": "default",
        "at_ms": T0,
        "text": "[PAPER] Bought 20 sh",
        "data": {"notional": "10.4"},
    }
    assert channel.snapshot()[f"messages_sent_total/{channel.name}"] == 1


async def test_overload_and_throttling_are_retried_honouring_retry_after(
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hook, url = receiver
    hook.script = [(503, {}), (429, {"Retry-After": "7"}), (502, {})]
    sleeps = Sleeps()
    channel = WebhookChannel(url, [NoticeKind.ERROR], sleep=sleeps, backoff_s=0.5)
    await channel.start()
    channel.offer(message(NoticeKind.ERROR))
    await hook.wait_for(1)
    await channel.stop()
    assert hook.attempts == 4 and len(hook.received) == 1
    assert sleeps.delays == [0.5, 7.0, 2.0]  # backoff, the receiver's wish, backoff doubled


async def test_a_refusal_is_final_and_the_next_message_still_goes(
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hook, url = receiver
    hook.script = [(400, {})]
    channel = WebhookChannel(url, [NoticeKind.ERROR], sleep=Sleeps())
    await channel.start()
    channel.offer(message(NoticeKind.ERROR, "first"))
    channel.offer(message(NoticeKind.ERROR, "second"))
    (body,) = await hook.wait_for(1)
    await channel.stop()
    assert body["text"] == "[PAPER] second" and hook.attempts == 2
    assert channel.snapshot()[f"messages_failed_total/{channel.name}"] == 1


async def test_a_dead_receiver_costs_retries_not_the_process() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    sleeps = Sleeps()
    channel = WebhookChannel(
        f"http://127.0.0.1:{port}/hook/{SECRET_PATH}", [NoticeKind.ERROR], sleep=sleeps
    )
    with captured_logs() as logs:
        await channel.start()
        channel.offer(message(NoticeKind.ERROR))
        await asyncio.sleep(0)
        await channel.stop(flush_timeout_s=5)
    assert len(sleeps.delays) == 3  # 4 attempts
    assert channel.snapshot()[f"messages_failed_total/{channel.name}"] == 1
    assert "webhook delivery gave up" in logs.getvalue()
    assert SECRET_PATH not in logs.getvalue()  # a webhook URL is a credential


async def test_a_stalled_receiver_never_blocks_the_notifier() -> None:
    channel = WebhookChannel("http://127.0.0.1:9/x", [NoticeKind.ERROR], capacity=3)
    for n in range(10):  # not started: nothing drains, yet offering never blocks
        channel.offer(message(NoticeKind.ERROR, str(n)))
    snapshot = channel.snapshot()
    assert snapshot[f"queued/{channel.name}"] == 3
    assert snapshot[f"messages_dropped_total/{channel.name}"] == 7

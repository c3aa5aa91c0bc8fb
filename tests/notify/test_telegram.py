"""Telegram against a local fake of the Bot API: delivery, pacing, 429s, outages, commands."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from polytail.app.health import HealthTracker
from polytail.config.schema import Mode
from polytail.config.secrets import Secret
from polytail.domain.decisions import ReasonCode
from polytail.engine.events import DecisionMade, EventBus
from polytail.notify.commands import CommandProcessor
from polytail.notify.notices import Message, NoticeKind
from polytail.notify.render import Renderer
from polytail.notify.telegram import MAX_MESSAGE_CHARS, TelegramChannel, split_text
from polytail.web.server import WebServer
from tests.support.fake_telegram import FakeBotApi
from tests.support.logs import captured_logs
from tests.support.samples import ACCOUNT, ALICE, BOB, T0, fill, skip_decision
from tests.support.service import InMemoryService

TOKEN = "123456789:AAFakeTelegramTokenForTests_x1y2z3"
CHAT = 4242


@dataclass
class Bot:
    api: FakeBotApi
    url: str


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    api = FakeBotApi(TOKEN)
    async with WebServer(api.app) as server:
        yield Bot(api, server.url)


def message(text: str, kind: NoticeKind | None = NoticeKind.COPY) -> Message:
    return Message(text=text, mode=Mode.PAPER, account=ACCOUNT, at_ms=T0, kind=kind)


def channel(url: str, **options: object) -> TelegramChannel:
    settings: dict[str, object] = {"min_interval_s": 0.05, "poll_timeout_s": 0.5}
    settings.update(options)
    return TelegramChannel(
        Secret(TOKEN), str(CHAT), mode=Mode.PAPER, account=ACCOUNT, api_url=url, **settings
    )  # type: ignore[arg-type]


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []
        self.called = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.called.set()
        await asyncio.sleep(0.01)


async def test_notices_reach_the_configured_chat(bot: Bot) -> None:
    telegram = channel(bot.url)
    await telegram.start()
    telegram.offer(message("[PAPER] Bought 20 sh will-it-rain"))
    texts = await bot.api.wait_for_messages(1)
    await telegram.stop()
    assert texts == ["[PAPER] Bought 20 sh will-it-rain"]
    assert bot.api.sent[0]["chat_id"] == CHAT
    assert bot.api.calls[0] == "getMe"


async def test_a_burst_is_coalesced_instead_of_flooding_the_chat(bot: Bot) -> None:
    telegram = channel(bot.url, min_interval_s=0.3)
    await telegram.start()
    telegram.offer(message("[PAPER] first"))
    await bot.api.wait_for_messages(1)
    burst = [f"[PAPER] skip {n}" for n in range(40)]
    for text in burst:  # arrives while the sender paces itself
        telegram.offer(message(text))
    await bot.api.wait_for_messages(2)
    await telegram.stop()
    assert len(bot.api.sent) == 2
    assert bot.api.sent[1]["text"] == "\n\n".join(burst)  # everything, in order, once


async def test_long_batches_are_split_within_telegrams_limit(bot: Bot) -> None:
    telegram = channel(bot.url)
    texts = [f"[PAPER] {n:03d} " + "x" * 90 for n in range(100)]
    for text in texts:
        telegram.offer(message(text))
    await telegram.start()
    await bot.api.wait_for_messages(3)
    await telegram.stop()
    sent = [m["text"] for m in bot.api.sent]
    assert all(len(text) <= MAX_MESSAGE_CHARS for text in sent)
    assert "\n\n".join(sent).split("\n\n") == texts


def test_split_text_cuts_at_lines_and_only_cuts_giant_lines() -> None:
    assert split_text("a\nb", limit=10) == ["a\nb"]
    assert split_text("aaaa\nbbbb\ncccc", limit=10) == ["aaaa\nbbbb", "cccc"]
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]


async def test_flood_control_waits_as_long_as_telegram_asks(bot: Bot) -> None:
    bot.api.throttle_next = 2
    bot.api.retry_after = 3
    sleeps = Sleeps()
    telegram = channel(bot.url, sleep=sleeps, min_interval_s=0.01)
    await telegram.start()
    telegram.offer(message("[PAPER] important"))
    assert await bot.api.wait_for_messages(1) == ["[PAPER] important"]
    await telegram.stop()
    assert bot.api.refusals == [429, 429]
    assert sleeps.delays[:2] == [3.0, 3.0]
    assert telegram.snapshot()["rate_limited_total/telegram"] == 2


async def test_an_unreachable_telegram_at_startup_is_retried_in_the_background() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    telegram = channel(f"http://127.0.0.1:{port}", sleep=sleeps, request_timeout_s=1.0)
    api = FakeBotApi(TOKEN)
    with captured_logs() as logs:
        await telegram.start()
        telegram.offer(message("[PAPER] sent once Telegram is back"))
        await asyncio.wait_for(sleeps.called.wait(), 10)  # the first attempt failed
        async with WebServer(api.app, "127.0.0.1", port):
            assert await api.wait_for_messages(1) == ["[PAPER] sent once Telegram is back"]
            await telegram.stop()
    assert sleeps.delays[0] == 1.0
    assert "Telegram unreachable; retrying" in logs.getvalue()


async def test_a_refused_token_turns_telegram_off_without_touching_the_process(bot: Bot) -> None:
    telegram = TelegramChannel(
        Secret("999:WrongTokenWrongTokenWrongToken"),
        str(CHAT),
        mode=Mode.PAPER,
        account=ACCOUNT,
        api_url=bot.url,
    )
    with captured_logs() as logs:
        await telegram.start()
        telegram.offer(message("[PAPER] lost"))
        assert telegram._task is not None
        await asyncio.wait_for(telegram._task, 10)
        await telegram.stop()
    assert "Telegram refused POLYTAIL_TELEGRAM_TOKEN" in logs.getvalue()
    assert bot.api.sent == []


@pytest.fixture
def service() -> InMemoryService:
    bus = EventBus()
    service = InMemoryService(HealthTracker(["broker"]))
    service.attach(bus)
    service.add_leader(ALICE, "alice")
    service.add_leader(BOB, "bob")
    bus.publish(DecisionMade(skip_decision(fill(9, leader=BOB), ReasonCode.FILTER_SIDE)))
    return service


async def test_commands_from_the_chat_are_answered_through_the_service_layer(
    bot: Bot, service: InMemoryService
) -> None:
    commands = CommandProcessor(service, Renderer(Mode.PAPER))
    telegram = channel(bot.url, commands=commands)
    await telegram.start()
    await asyncio.wait_for(telegram.ready.wait(), 10)  # commands typed earlier are dropped
    bot.api.push_command("/pause bob", chat_id=CHAT)
    replies = await bot.api.wait_for_messages(1)
    assert replies[0] == "[PAPER] Leader bob (0xb2b2…b2b2) is paused."
    assert service.calls == [("pause", BOB)]

    bot.api.push_command(f"/why {fill(9, leader=BOB).fill_id}", chat_id=CHAT)
    why = (await bot.api.wait_for_messages(2))[1]
    assert "decision: SKIP" in why
    assert "- filter_side: this side (buy/sell) is excluded by filters.sides" in why

    bot.api.push_command("/kill", chat_id=CHAT)
    assert (await bot.api.wait_for_messages(3))[2].startswith("[PAPER] Kill switch ENGAGED")
    assert service.kill.engaged and service.kill.source == "telegram"

    bot.api.push_command("/status", chat_id=CHAT)
    status = (await bot.api.wait_for_messages(4))[3]
    assert "KILL SWITCH ENGAGED (telegram)" in status and "cash 1000.00" in status

    bot.api.push_command("/pause nobody", chat_id=CHAT)
    failed = (await bot.api.wait_for_messages(5))[4]
    assert failed.startswith("[PAPER] Cannot do that: no watched leader matches 'nobody'")
    await telegram.stop()


async def test_commands_from_any_other_chat_are_ignored(bot: Bot, service: InMemoryService) -> None:
    commands = CommandProcessor(service, Renderer(Mode.PAPER))
    telegram = channel(bot.url, commands=commands)
    with captured_logs() as logs:
        await telegram.start()
        await asyncio.wait_for(telegram.ready.wait(), 10)
        bot.api.push_command("/kill", chat_id=666)
        bot.api.push_command("/status", chat_id=CHAT)  # processed after the stranger's
        (reply,) = await bot.api.wait_for_messages(1)
        await telegram.stop()
    assert reply.startswith("[PAPER] Status")
    assert not service.kill.engaged and service.calls == []
    assert "other than notify.telegram.chat_id ignored" in logs.getvalue()

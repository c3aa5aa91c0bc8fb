"""The notifier end to end: engine events on the bus, messages at real receivers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

import pytest

from polytail.app.health import HealthTracker
from polytail.config.schema import Mode, PolytailConfig
from polytail.config.secrets import Secret, Secrets
from polytail.domain.decisions import ReasonCode
from polytail.domain.orders import OrderState
from polytail.engine.events import (
    DecisionMade,
    EngineError,
    EventBus,
    FillDetected,
    OrderUpdated,
)
from polytail.notify.notices import Message, NoticeKind
from polytail.notify.notifier import Notifier, NotifyConfigError, next_daily_ms
from polytail.notify.render import Renderer
from polytail.notify.telegram import TelegramChannel
from polytail.notify.webhooks import WebhookChannel
from polytail.web.server import WebServer
from tests.support.receiver import WebhookReceiver
from tests.support.samples import (
    ACCOUNT,
    ALICE,
    T0,
    copy_decision,
    fill,
    matched,
    order_for,
    skip_decision,
)
from tests.support.service import InMemoryService

HOUR = 3_600_000


class Recorder:
    """A channel that keeps what it is offered (for routing tests; transports have theirs)."""

    name = "recorder"

    def __init__(self, kinds: frozenset[NoticeKind] = frozenset(NoticeKind)) -> None:
        self.kinds = kinds
        self.messages: list[Message] = []
        self.arrived = asyncio.Event()

    def offer(self, message: Message) -> None:
        self.messages.append(message)
        self.arrived.set()

    async def start(self) -> None:
        pass

    async def stop(self, flush_timeout_s: float = 2.0) -> None:
        pass

    def snapshot(self) -> Mapping[str, float]:
        return {"offered_total/recorder": len(self.messages)}

    async def wait_for(self, count: int) -> list[Message]:
        async with asyncio.timeout(5):
            while len(self.messages) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.messages


class FakeTime:
    """An injectable clock: sleeping advances it, so a day passes in no time."""

    def __init__(self, now_ms: int) -> None:
        self.now = now_ms
        self.sleeps: list[float] = []

    def now_ms(self) -> int:
        return self.now

    def monotonic_ns(self) -> int:
        return self.now * 1_000_000

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if len(self.sleeps) > 2:
            await asyncio.Event().wait()  # the test has seen enough days
        self.now += round(seconds * 1000)


def service_on(bus: EventBus) -> InMemoryService:
    service = InMemoryService(HealthTracker(["broker"]))
    service.attach(bus)
    service.add_leader(ALICE, "alice")
    return service


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver()
    async with WebServer(hook.app) as server:
        yield hook, f"{server.url}/hook/x1"


async def test_a_copy_travels_from_the_bus_to_a_webhook(
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hook, url = receiver
    bus = EventBus()
    recorder = Recorder()
    notifier = Notifier(
        bus=bus,
        service=service_on(bus),
        channels=[WebhookChannel(url, [NoticeKind.COPY]), recorder],
        renderer=Renderer(Mode.LIVE),
        account=ACCOUNT,
        labels={ALICE: "alice"},
    )
    await notifier.start()
    leader_fill = fill(1)
    decision = copy_decision(leader_fill)
    order = order_for(decision)
    bus.publish(FillDetected(leader_fill, at_ms=T0, detection_ms=800))
    bus.publish(DecisionMade(decision))
    bus.publish(OrderUpdated(matched(order), previous=OrderState.SENT))
    bus.publish(EngineError("feed.poll", "HTTP 503 from the Data API", at_ms=T0))
    (body,) = await hook.wait_for(1)
    await recorder.wait_for(2)
    await notifier.stop()
    assert body["kind"] == "copy" and body["mode"] == "live"
    assert body["text"].startswith("[LIVE] Bought 20 sh will-it-rain-tomorrow · Yes @ 0.5200")
    data = body["data"]
    assert data["order"]["filled_notional"] == "10.4"  # exact, as a string
    assert data["decision"]["reasons"] == ["copied"] and data["leader"] == "alice"
    assert [m.kind for m in recorder.messages] == [NoticeKind.COPY, NoticeKind.ERROR]
    assert notifier.snapshot()["notices_total"] == 2


async def test_skips_are_built_only_for_channels_that_want_them() -> None:
    bus = EventBus()
    quiet = Recorder(frozenset(NoticeKind) - {NoticeKind.SKIP})
    notifier = Notifier(
        bus=bus,
        service=service_on(bus),
        channels=[quiet],
        renderer=Renderer(Mode.PAPER),
        account=ACCOUNT,
    )
    await notifier.start()
    bus.publish(DecisionMade(skip_decision(fill(2), ReasonCode.FILTER_SPREAD)))
    bus.publish(EngineError("broker", "x", at_ms=T0))
    await quiet.wait_for(1)
    await notifier.stop()
    assert [m.kind for m in quiet.messages] == [NoticeKind.ERROR]


async def test_the_engine_never_waits_for_a_slow_notifier() -> None:
    bus = EventBus()
    recorder = Recorder()
    notifier = Notifier(
        bus=bus,
        service=service_on(bus),
        channels=[recorder],
        renderer=Renderer(Mode.PAPER),
        account=ACCOUNT,
        queue_size=5,
    )
    await notifier.start()
    for n in range(50):  # no await: the notifier cannot run meanwhile
        bus.publish(EngineError("broker", f"error {n}", at_ms=T0))
    await recorder.wait_for(5)
    await asyncio.sleep(0.05)
    await notifier.stop()
    assert [m.text for m in recorder.messages] == [
        f"[PAPER] Error in broker: error {n}" for n in range(45, 50)
    ]
    assert notifier.snapshot()["events_dropped_total"] == 45


async def test_stopping_still_notifies_what_was_already_queued() -> None:
    bus = EventBus()
    recorder = Recorder()
    notifier = Notifier(
        bus=bus, service=service_on(bus), channels=[recorder],
        renderer=Renderer(Mode.PAPER), account=ACCOUNT,
    )  # fmt: skip
    await notifier.start()
    for n in range(3):
        bus.publish(EngineError("broker", f"shutting down {n}", at_ms=T0))
    await notifier.stop()  # no await in between: all three were still queued
    assert [m.text for m in recorder.messages] == [
        f"[PAPER] Error in broker: shutting down {n}" for n in range(3)
    ]


def test_the_next_digest_time_is_strictly_in_the_future() -> None:
    assert next_daily_ms(T0, "20:00") == T0 + 20 * HOUR
    assert next_daily_ms(T0 + 20 * HOUR, "20:00") == T0 + 44 * HOUR
    assert next_daily_ms(T0 + 21 * HOUR, "00:00") == T0 + 24 * HOUR


async def test_the_daily_digest_goes_out_at_the_configured_time_each_day() -> None:
    bus = EventBus()
    service = service_on(bus)
    bus.publish(DecisionMade(skip_decision(fill(3), ReasonCode.FILTER_PRICE_BAND)))
    clock = FakeTime(T0 + 19 * HOUR)  # 19:00 UTC
    recorder = Recorder()
    notifier = Notifier(
        bus=bus,
        service=service,
        channels=[recorder],
        renderer=Renderer(Mode.PAPER),
        account=ACCOUNT,
        digest_at="20:00",
        clock=clock,
        sleep=clock.sleep,
    )
    await notifier.start()
    await recorder.wait_for(2)
    await notifier.stop()
    assert clock.sleeps[:2] == [3600.0, 86400.0]
    days = [m.text.splitlines()[0] for m in recorder.messages]
    assert days == [
        "[PAPER] Daily digest 2026-01-01 · account default",
        "[PAPER] Daily digest 2026-01-02 · account default",
    ]
    assert "top skip reasons: filter_price_band ×1" in recorder.messages[0].text
    assert all(m.kind is NoticeKind.DIGEST for m in recorder.messages)


def test_from_config_builds_the_configured_channels() -> None:
    config = PolytailConfig.model_validate(
        {
            "leaders": [{"address": ALICE, "name": "alice"}],
            "notify": {
                "notify_skips": True,
                "telegram": {"enabled": True, "chat_id": "-100123", "commands": False},
                "webhooks": [
                    {"url": "http://127.0.0.1:9/a", "events": ["error"]},
                    {"url": "http://127.0.0.1:9/b"},
                ],
            },
        }
    )
    secrets = Secrets(telegram_token=Secret("123:tok-for-config-test"))
    bus = EventBus()
    notifier = Notifier.from_config(config, secrets, bus, service_on(bus))
    telegram, errors_only, default = notifier.channels
    assert isinstance(telegram, TelegramChannel) and NoticeKind.SKIP in telegram.kinds
    assert errors_only.kinds == {NoticeKind.ERROR}
    assert default.kinds == {
        NoticeKind.COPY,
        NoticeKind.ERROR,
        NoticeKind.BREAKER,
        NoticeKind.RESOLUTION,
        NoticeKind.DIGEST,
    }


@pytest.mark.parametrize(
    ("telegram", "token", "message"),
    [
        ({"enabled": True, "chat_id": "1"}, None, "POLYTAIL_TELEGRAM_TOKEN is not set"),
        ({"enabled": True}, "123:tok-for-config-test", "chat_id is empty"),
    ],
)
def test_incomplete_telegram_settings_are_a_clear_error(
    telegram: dict[str, object], token: str | None, message: str
) -> None:
    config = PolytailConfig.model_validate({"notify": {"telegram": telegram}})
    secrets = Secrets(telegram_token=Secret(token) if token else None)
    bus = EventBus()
    with pytest.raises(NotifyConfigError, match=message):
        Notifier.from_config(config, secrets, bus, service_on(bus))

"""The notifier: engine events in, messages out to every configured channel.

It reads its own bounded `EventBus` subscription, so the engine never waits for it: when
it falls behind, the bus drops the oldest events and counts them. Each channel has its own
outbox and task in turn, so a throttled Telegram chat does not delay a webhook, and
nothing here can raise into the engine.

Construct it with `Notifier.from_config(...)` (what `polytail run` does) or from parts
(tests, benchmarks); `start()` subscribes and starts the channels, `stop()` flushes for a
moment and stops them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Final, Protocol

import structlog

from polytail.app.jsonable import jsonable
from polytail.app.services import OperatorService
from polytail.config.schema import PolytailConfig
from polytail.config.secrets import Secrets
from polytail.domain.clock import Clock
from polytail.domain.ids import AccountId, Address
from polytail.engine.clock import WallClock
from polytail.engine.events import DEFAULT_QUEUE_SIZE, EventBus, Subscription
from polytail.notify.commands import CommandProcessor
from polytail.notify.notices import Message, Notice, NoticeBuilder, NoticeKind
from polytail.notify.render import Renderer
from polytail.notify.telegram import TelegramChannel
from polytail.notify.webhooks import WebhookChannel

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]
_DAY_MS: Final = 86_400_000


class NotifyConfigError(ValueError):
    """The notification settings cannot work; the message says what to set."""


class Channel(Protocol):
    name: str
    kinds: frozenset[NoticeKind]

    def offer(self, message: Message) -> None:
        """Queue a message (never blocks, never raises)."""
        ...

    async def start(self) -> None: ...

    async def stop(self, flush_timeout_s: float = 2.0) -> None: ...

    def snapshot(self) -> Mapping[str, float]: ...


def next_daily_ms(now_ms: int, at_utc: str) -> int:
    """The next instant strictly after `now_ms` whose UTC time of day is `at_utc` (HH:MM)."""
    hours, minutes = (int(part) for part in at_utc.split(":"))
    offset = (hours * 60 + minutes) * 60_000
    today = now_ms - now_ms % _DAY_MS
    target = today + offset
    return target if target > now_ms else target + _DAY_MS


class Notifier:
    def __init__(
        self,
        *,
        bus: EventBus,
        service: OperatorService,
        channels: Sequence[Channel],
        renderer: Renderer,
        account: AccountId,
        labels: Mapping[Address, str] | None = None,
        digest_at: str | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ) -> None:
        self._bus = bus
        self._service = service
        self._channels = tuple(channels)
        self._renderer = renderer
        self._account = account
        self._builder = NoticeBuilder(
            labels=labels or {},
            notify_skips=any(NoticeKind.SKIP in channel.kinds for channel in self._channels),
        )
        self._digest_at = digest_at
        self._clock: Clock = clock if clock is not None else WallClock()
        self._sleep = sleep
        self._queue_size = queue_size
        self._subscription: Subscription | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.notices = 0
        self.failures = 0

    # --- construction from the config --------------------------------------------------
    @classmethod
    def from_config(
        cls,
        config: PolytailConfig,
        secrets: Secrets,
        bus: EventBus,
        service: OperatorService,
        *,
        clock: Clock | None = None,
    ) -> Notifier:
        """The notifier `config.notify` describes (no channel configured: a quiet one)."""
        settings = config.notify
        renderer = Renderer(config.mode, settings.templates_dir)
        account = AccountId(config.account)
        channels: list[Channel] = []
        telegram = settings.telegram
        if telegram.enabled:
            if secrets.telegram_token is None:
                raise NotifyConfigError(
                    "notify.telegram.enabled is true but POLYTAIL_TELEGRAM_TOKEN is not set; "
                    "export the bot token from @BotFather or disable Telegram"
                )
            if not telegram.chat_id:
                raise NotifyConfigError(
                    "notify.telegram.enabled is true but notify.telegram.chat_id is empty; "
                    "set it to your chat's id (docs/OPERATIONS.md says how to find it)"
                )
            kinds = frozenset(NoticeKind) - (
                frozenset() if settings.notify_skips else {NoticeKind.SKIP}
            )
            commands = CommandProcessor(service, renderer) if telegram.commands else None
            channels.append(
                TelegramChannel(
                    secrets.telegram_token,
                    telegram.chat_id,
                    mode=config.mode,
                    account=account,
                    kinds=kinds,
                    api_url=telegram.api_url,
                    commands=commands,
                )
            )
        for hook in settings.webhooks:
            channels.append(WebhookChannel(hook.url, (NoticeKind(e) for e in hook.events)))
        return cls(
            bus=bus,
            service=service,
            channels=channels,
            renderer=renderer,
            account=account,
            labels={Address(leader.address): leader.label for leader in config.leaders},
            digest_at=settings.digest_utc,
            clock=clock,
        )

    def update_labels(self, labels: Mapping[Address, str]) -> None:
        """After a config reload: new leader names in messages."""
        self._builder.labels = dict(labels)

    # --- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        for channel in self._channels:
            await channel.start()
        # Subscribed last, with no await after it: a notifier replacing another (a config
        # reload) takes over exactly where the old one's `stop` unsubscribes.
        self._subscription = self._bus.subscribe("notifier", maxsize=self._queue_size)
        self._tasks.append(asyncio.create_task(self._consume(), name="notifier"))
        if self._digest_at and any(NoticeKind.DIGEST in c.kinds for c in self._channels):
            self._tasks.append(asyncio.create_task(self._digests(), name="notifier-digest"))

    async def stop(self, flush_timeout_s: float = 2.0) -> None:
        """Stop listening, notify what was already queued (within the timeout), stop."""
        if self._subscription is not None:
            self._bus.unsubscribe(self._subscription)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._subscription.queue.join(), flush_timeout_s)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for channel in self._channels:
            try:
                await channel.stop(flush_timeout_s)
            except Exception:
                log.exception("notification channel did not stop cleanly", channel=channel.name)

    def snapshot(self) -> Mapping[str, float]:
        """Counters for `/metrics` (`EngineMetrics.add_stats("notify", notifier)`)."""
        dropped = self._subscription.dropped if self._subscription is not None else 0
        figures: dict[str, float] = {
            "notices_total": self.notices,
            "failures_total": self.failures,
            "events_dropped_total": dropped,
        }
        for channel in self._channels:
            figures.update(channel.snapshot())
        return figures

    # --- work ------------------------------------------------------------------------------
    async def _consume(self) -> None:
        assert self._subscription is not None
        queue = self._subscription.queue
        while True:
            event = await queue.get()
            try:
                notice = self._builder.on_event(event)
                if notice is not None:
                    self.publish(notice)
            except Exception:
                self.failures += 1
                log.exception("notification failed", event=type(event).__name__)
            finally:
                queue.task_done()

    def publish(self, notice: Notice) -> None:
        """Render a notice once and offer it to every channel that wants its kind."""
        wanted = [channel for channel in self._channels if notice.kind in channel.kinds]
        if not wanted:
            return
        text = self._renderer.render(notice.template, notice.context)
        try:
            data = jsonable(notice.context)
        except TypeError:
            data = {}
        message = Message(
            text=text,
            mode=self._renderer.mode,
            account=self._account,
            at_ms=notice.at_ms,
            kind=notice.kind,
            data=data if isinstance(data, dict) else {"value": data},
        )
        self.notices += 1
        for channel in wanted:
            channel.offer(message)

    async def send_digest(self, day: dt.date | None = None) -> None:
        digest = await self._service.daily_digest(day)
        self.publish(self._builder.digest(digest, self._clock.now_ms()))

    async def _digests(self) -> None:
        assert self._digest_at is not None
        while True:
            now = self._clock.now_ms()
            target = next_daily_ms(now, self._digest_at)
            await self._sleep((target - now) / 1000)
            if self._clock.now_ms() < target:
                continue  # woke early: sleep the rest
            day = dt.datetime.fromtimestamp(target / 1000, dt.UTC).date()
            try:
                await self.send_digest(day)
            except Exception:
                self.failures += 1
                log.exception("daily digest failed", day=str(day))

    @property
    def channels(self) -> Iterable[Channel]:
        return self._channels

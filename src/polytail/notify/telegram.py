"""Telegram: notifications to one chat, and commands from that chat only.

Built on python-telegram-bot (its `Application` for long polling and command parsing, its
`Bot` for sending). What this module adds is what a trading process needs from a chat:

- **Pacing and coalescing.** Telegram allows about one message per second per chat (20
  a minute in groups). Messages wait in a bounded outbox; the sender sends at most one
  message per `min_interval_s`, and everything that queued meanwhile goes out joined in
  that one message (up to Telegram's 4096 characters). A burst of 50 skips is two
  messages, not a flood that gets the bot throttled.
- **Retries that never take the process down.** A 429 waits the `retry_after` Telegram
  asks for; timeouts and network errors back off exponentially and eventually drop the
  message (counted, logged); a refused message (bad chat id, bot blocked) is logged and
  dropped. If Telegram is unreachable at startup, the channel keeps trying in the
  background while the engine runs.
- **Only the configured chat commands.** Updates from any other chat are ignored and
  logged. Pending updates are dropped at startup, so a `/unkill` typed while polytail was
  down is not executed hours later.
- **No secret in text.** The bot token is registered with the redactor (it appears in
  every Bot API URL, hence in any HTTP log line), and every message is scrubbed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import warnings
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import structlog
from telegram import LinkPreviewOptions, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from polytail.config.redaction import register_secrets, scrub
from polytail.config.schema import Mode
from polytail.config.secrets import Secret
from polytail.domain.ids import AccountId
from polytail.notify.commands import COMMANDS, CommandProcessor
from polytail.notify.notices import Message, NoticeKind
from polytail.notify.outbox import DEFAULT_CAPACITY, Outbox

log = structlog.get_logger(__name__)

DEFAULT_API_URL: Final = "https://api.telegram.org"
MAX_MESSAGE_CHARS: Final = 4096
_SEPARATOR: Final = "\n\n"
_MAX_RETRY_AFTER_S: Final = 300.0
Sleep = Callable[[float], Awaitable[None]]
BotApp = Application[Any, Any, Any, Any, Any, Any]


def _seconds(retry_after: int | float | dt.timedelta) -> float:
    if isinstance(retry_after, dt.timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


def _retry_after_s(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 deprecates the int form; either is fine here
        warnings.simplefilter("ignore")
        value = error.retry_after
    return min(_MAX_RETRY_AFTER_S, max(0.0, _seconds(value)))


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Cut a long text into messages at line breaks (hard cuts only for giant lines)."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        rest = line
        while len(rest) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(rest[:limit])
            rest = rest[limit:]
        if len(current) + len(rest) > limit:
            chunks.append(current)
            current = ""
        current += rest
    if current.strip():
        chunks.append(current)
    return [chunk.rstrip("\n") for chunk in chunks] or [""]


def _chat_target(chat_id: str) -> int | str:
    """A numeric chat id (negative for groups), or an `@channel` username."""
    text = chat_id.strip()
    return int(text) if text.lstrip("-").isdigit() else text


def _chat_filter(target: int | str) -> filters.Chat:
    if isinstance(target, int):
        return filters.Chat(chat_id=target)
    return filters.Chat(username=target.lstrip("@"))


class TelegramChannel:
    name = "telegram"

    def __init__(
        self,
        token: Secret,
        chat_id: str,
        *,
        mode: Mode,
        account: AccountId,
        kinds: frozenset[NoticeKind] = frozenset(NoticeKind),
        api_url: str = DEFAULT_API_URL,
        commands: CommandProcessor | None = None,
        min_interval_s: float = 1.0,
        poll_timeout_s: float = 10.0,
        request_timeout_s: float = 15.0,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        capacity: int = DEFAULT_CAPACITY,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        register_secrets([token.reveal()])
        self.kinds = kinds
        self._chat = _chat_target(chat_id)
        self._mode = mode
        self._account = account
        self._commands = commands
        self._min_interval = min_interval_s
        self._poll_timeout = poll_timeout_s
        self._max_attempts = max_attempts
        self._backoff = backoff_s
        self._max_backoff = max_backoff_s
        self._sleep = sleep
        self._outbox = Outbox(capacity)
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()  # set once connected (and polling, with commands)
        self.sent = 0
        self.failed = 0
        self.rate_limited = 0
        self.retries = 0
        base = api_url.rstrip("/")
        builder = (
            Application.builder()
            .token(token.reveal())
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .connect_timeout(request_timeout_s)
            .read_timeout(request_timeout_s)
            .write_timeout(request_timeout_s)
            .get_updates_read_timeout(poll_timeout_s + request_timeout_s)
            .job_queue(None)
        )
        if commands is None:
            builder = builder.updater(None)
        self._app: BotApp = builder.build()
        if commands is not None:
            allowed = _chat_filter(self._chat)
            self._app.add_handler(
                CommandHandler([*COMMANDS, "start"], self._on_command, filters=allowed)
            )
            self._app.add_handler(MessageHandler(~allowed, self._on_stranger))

    # --- public ---------------------------------------------------------------------------
    def offer(self, message: Message) -> None:
        if message.kind is None or message.kind in self.kinds:
            self._outbox.put(message)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="telegram")

    async def stop(self, flush_timeout_s: float = 2.0) -> None:
        if self._task is not None and not self._task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.drained(), flush_timeout_s)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._shutdown()

    def snapshot(self) -> Mapping[str, float]:
        return {
            "messages_sent_total/telegram": self.sent,
            "messages_failed_total/telegram": self.failed,
            "messages_dropped_total/telegram": self._outbox.dropped,
            "rate_limited_total/telegram": self.rate_limited,
            "retries_total/telegram": self.retries,
            "queued/telegram": len(self._outbox),
        }

    # --- lifecycle ------------------------------------------------------------------------
    async def _run(self) -> None:
        if not await self._connect():
            return
        if self._commands is not None:
            await self._start_polling()
        self.ready.set()
        await self._send_loop()

    async def _connect(self) -> bool:
        """`getMe` until it works; False when the token itself is refused."""
        delay = self._backoff
        while True:
            try:
                await self._app.initialize()
                return True
            except InvalidToken:
                log.error(
                    "Telegram refused POLYTAIL_TELEGRAM_TOKEN; notifications are off until "
                    "it is fixed and polytail restarted"
                )
                return False
            except TelegramError as error:
                log.warning(
                    "Telegram unreachable; retrying", error=scrub(str(error)), retry_in_s=delay
                )
            await self._sleep(delay)
            delay = min(self._max_backoff, delay * 2)

    async def _start_polling(self) -> None:
        updater = self._app.updater
        assert updater is not None
        try:
            await updater.start_polling(
                timeout=dt.timedelta(seconds=self._poll_timeout),
                drop_pending_updates=True,
                bootstrap_retries=-1,  # PTB retries the bootstrap with its own backoff
                error_callback=self._polling_error,
            )
            await self._app.start()
        except TelegramError as error:
            log.error("Telegram commands unavailable", error=scrub(str(error)))

    def _polling_error(self, error: TelegramError) -> None:
        # PTB retries polling by itself; just say what happened, without the traceback noise.
        log.warning("Telegram polling failed; retrying", error=scrub(str(error)))

    async def _shutdown(self) -> None:
        app = self._app
        with contextlib.suppress(Exception):
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()

    # --- sending ----------------------------------------------------------------------------
    def _next_text(self) -> str | None:
        """Everything that can go in one message: a reply alone, or notices joined."""
        first = self._outbox.peek()
        if first is None:
            return None
        self._outbox.pop()
        if first.is_reply:
            return first.text
        parts = [first.text]
        size = len(first.text)
        while (following := self._outbox.peek()) is not None and not following.is_reply:
            if size + len(_SEPARATOR) + len(following.text) > MAX_MESSAGE_CHARS:
                break
            self._outbox.pop()
            parts.append(following.text)
            size += len(_SEPARATOR) + len(following.text)
        return _SEPARATOR.join(parts)

    async def _send_loop(self) -> None:
        while True:
            await self._outbox.wait()
            text = self._next_text()
            try:
                if text is not None:
                    for chunk in split_text(scrub(text)):
                        await self._send(chunk)
            finally:
                self._outbox.done()
            await self._sleep(self._min_interval)

    async def _send(self, text: str) -> None:
        delay = self._backoff
        failures = 0
        throttles = 0
        while True:
            try:
                await self._app.bot.send_message(
                    chat_id=self._chat,
                    text=text,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
                self.sent += 1
                return
            except RetryAfter as error:
                self.rate_limited += 1
                throttles += 1
                wait = _retry_after_s(error)
                if throttles > self._max_attempts:
                    break
                log.warning("Telegram asks to slow down", retry_after_s=wait)
                await self._sleep(wait)
                continue
            except ChatMigrated as error:
                log.warning(
                    "Telegram chat became a supergroup; sending to its new id. Update "
                    "notify.telegram.chat_id",
                    new_chat_id=error.new_chat_id,
                )
                self._chat = error.new_chat_id
                continue
            except (BadRequest, Forbidden, InvalidToken) as error:
                self.failed += 1
                log.error("Telegram refused the message; dropped", error=scrub(str(error)))
                return
            except TelegramError as error:  # network errors, timeouts, 5xx
                failures += 1
                if failures >= self._max_attempts:
                    break
                self.retries += 1
                log.warning(
                    "Telegram send failed; retrying", error=scrub(str(error)), retry_in_s=delay
                )
                await self._sleep(delay)
                delay = min(self._max_backoff, delay * 2)
        self.failed += 1
        log.error("Telegram message dropped after repeated failures")

    # --- commands ---------------------------------------------------------------------------
    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None or self._commands is None:
            return
        command = message.text.split(maxsplit=1)[0]
        reply = await self._commands.handle(command, list(context.args or ()))
        self._outbox.put(
            Message(
                text=reply,
                mode=self._mode,
                account=self._account,
                at_ms=int(message.date.timestamp() * 1000),
            )
        )

    async def _on_stranger(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        log.warning(
            "Telegram update from a chat other than notify.telegram.chat_id ignored",
            chat_id=chat.id if chat is not None else None,
        )

"""A bounded outgoing queue per channel: a slow or dead chat never holds the notifier.

When a channel falls behind (Telegram throttling, a webhook timing out) its outbox keeps
the newest messages and counts what it dropped, exactly like the event bus does for the
engine. Each channel drains its own outbox in its own task.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

from polytail.notify.notices import Message

DEFAULT_CAPACITY: Final = 1000


class Outbox:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._items: deque[Message] = deque()
        self._capacity = capacity
        self._ready = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, message: Message) -> None:
        if len(self._items) >= self._capacity:
            self._items.popleft()
            self.dropped += 1
        self._items.append(message)
        self._empty.clear()
        self._ready.set()

    async def wait(self) -> None:
        """Return once a message is waiting."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()

    async def next(self) -> Message:
        """Wait for and remove the oldest message."""
        await self.wait()
        return self._items.popleft()

    def peek(self) -> Message | None:
        return self._items[0] if self._items else None

    def pop(self) -> Message:
        return self._items.popleft()

    def done(self) -> None:
        """The caller finished with what it took; wakes `drained()` when nothing is left."""
        if not self._items:
            self._empty.set()

    async def drained(self) -> None:
        await self._empty.wait()

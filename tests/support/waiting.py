"""Waiting for something a running engine will do, without guessing how long it takes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(condition: Callable[[], T], within_s: float = 15.0) -> T:
    """The first truthy value of `condition()`, checked every 20 ms; TimeoutError after
    `within_s` (a bound for a hung test, never a measure of speed)."""
    async with asyncio.timeout(within_s):
        while True:
            value = condition()
            if value:
                return value
            await asyncio.sleep(0.02)

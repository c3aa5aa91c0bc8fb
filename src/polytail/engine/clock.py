"""Clocks for the engine: the wall clock (live, paper, demo) and a simulated clock.

The policy and the domain take time as an input (`domain.clock.Clock`); the engine is the
one place that reads it. A backtest hands the same engine a `SimulatedClock` that its
replay advances, and `sleep` on it returns at once after moving time forward, so a day
of paper latency and GTC time limits replays in milliseconds.
"""

from __future__ import annotations

import asyncio
import time


class WallClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class SimulatedClock:
    """Time that moves only when the replay (or a `sleep`) moves it."""

    def __init__(self, start_ms: int) -> None:
        self._now_ms = start_ms

    def now_ms(self) -> int:
        return self._now_ms

    def monotonic_ns(self) -> int:
        return self._now_ms * 1_000_000

    def advance_to(self, at_ms: int) -> None:
        """Move to `at_ms`; time never goes backwards."""
        self._now_ms = max(self._now_ms, at_ms)

    async def sleep(self, seconds: float) -> None:
        self._now_ms += round(seconds * 1000)
        await asyncio.sleep(0)

"""The wall clock: `domain.clock.Clock` for live, paper and demo runs.

Backtests pass a simulated clock instead; everything that reads the time takes a `Clock`,
so the same code runs against either.
"""

from __future__ import annotations

import time


class WallClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

"""The wall clock the live feeds run on (backtests hand the feeds a simulated one)."""

from __future__ import annotations

import time


class WallClock:
    """`domain.clock.Clock` on the system clocks: wall time in ms, monotonic time in ns."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

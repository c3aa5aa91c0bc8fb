"""Time as an input. The domain and policy never read a clock; they are handed one.

Live, paper and demo runs pass the wall clock; backtests pass a simulated clock that the
replay advances. Keeping time behind this protocol is what makes a backtest reproduce the
live engine's decisions exactly.
"""

from __future__ import annotations

from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch (UTC)."""
        ...

    def monotonic_ns(self) -> int:
        """A monotonic reading for measuring durations; only differences mean anything."""
        ...

"""Plain counters of what the venue layer did, per endpoint family.

The metrics layer exports these later; the venue itself imports no metrics library, so
tests and backtests pay nothing for them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import Final

BREAKER_STATES: Final = {"closed": 0, "half-opened": 1, "opened": 2}


@dataclass(slots=True)
class FamilyStats:
    requests: int = 0
    failures: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    throttled: int = 0  # 429 replies
    restarts: int = 0  # 425 replies
    breaker_open_rejections: int = 0
    breaker_state: str = "closed"


@dataclass(slots=True)
class StreamStats:
    connects: int = 0
    reconnects: int = 0
    stale: int = 0
    frames: int = 0
    bad_frames: int = 0


@dataclass(slots=True)
class VenueStats:
    families: defaultdict[str, FamilyStats] = field(
        default_factory=lambda: defaultdict(FamilyStats)
    )
    streams: defaultdict[str, StreamStats] = field(default_factory=lambda: defaultdict(StreamStats))

    def family(self, name: str) -> FamilyStats:
        return self.families[name]

    def stream(self, name: str) -> StreamStats:
        return self.streams[name]

    def snapshot(self) -> dict[str, float]:
        """Flat `name/family` counters for the metrics layer (`web.metrics.StatsSource`).

        Counts become `<field>_total`; stream counts `stream_<field>_total`; the breaker
        state becomes `breaker_state` = 0 closed, 1 half-opened, 2 opened.
        """
        flat: dict[str, float] = {}
        for family, counters in self.families.items():
            for item in fields(FamilyStats):
                if item.name != "breaker_state":
                    flat[f"{item.name}_total/{family}"] = getattr(counters, item.name)
            flat[f"breaker_state/{family}"] = BREAKER_STATES.get(counters.breaker_state, 0)
        for stream, stream_counters in self.streams.items():
            for item in fields(StreamStats):
                flat[f"stream_{item.name}_total/{stream}"] = getattr(stream_counters, item.name)
        return flat

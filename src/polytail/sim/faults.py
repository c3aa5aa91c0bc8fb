"""Fault injection: the ways the real venue misbehaves, switchable per run and at runtime.

A fault matches a service (and optionally a path prefix) and fires with a probability,
at most `count` times, or for `seconds` of wall time. Randomness comes from the run's
seed, so a run with the same seed and the same requests misbehaves the same way.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FaultKind = Literal["latency", "status", "stale", "rtds_duplicate", "rtds_reorder"]
KINDS = ("latency", "status", "stale", "rtds_duplicate", "rtds_reorder")
SERVICES = ("*", "clob", "gamma", "data", "relayer", "rpc", "geoblock", "rtds", "ws")


class FaultError(ValueError):
    """A fault description that cannot be used; the message says which field and why."""


@dataclass
class Fault:
    kind: FaultKind
    service: str = "*"
    path: str = ""
    status: int = 0
    rate: float = 1.0
    count: int | None = None
    retry_after: float = 1.0
    ms: int = 0
    seconds: float = 0.0
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Fault:
        known = {
            "kind",
            "service",
            "path",
            "status",
            "rate",
            "count",
            "retry_after",
            "ms",
            "seconds",
        }
        unknown = set(raw) - known
        if unknown:
            raise FaultError(f"unknown fault field(s) {sorted(unknown)}; known: {sorted(known)}")
        kind = raw.get("kind")
        if kind not in KINDS:
            raise FaultError(f"fault kind {kind!r} is not one of {list(KINDS)}")
        service = str(raw.get("service", "*"))
        if service not in SERVICES:
            raise FaultError(f"fault service {service!r} is not one of {list(SERVICES)}")
        fault = cls(
            kind=kind,
            service=service,
            path=str(raw.get("path", "")),
            status=int(raw.get("status", 0)),
            rate=float(raw.get("rate", 1.0)),
            count=None if raw.get("count") is None else int(raw["count"]),
            retry_after=float(raw.get("retry_after", 1.0)),
            ms=int(raw.get("ms", 0)),
            seconds=float(raw.get("seconds", 0.0)),
        )
        if kind == "status" and not 400 <= fault.status <= 599:
            raise FaultError("a status fault needs status between 400 and 599 (429, 425, 503…)")
        if not 0 <= fault.rate <= 1:
            raise FaultError("rate must be between 0 and 1")
        return fault

    def describe(self) -> dict[str, Any]:
        body = asdict(self)
        body.pop("started")
        return body

    def expired(self, now: float) -> bool:
        if self.count is not None and self.count <= 0:
            return True
        return self.kind != "stale" and self.seconds > 0 and now - self.started > self.seconds

    def matches(self, service: str, path: str) -> bool:
        return self.service in ("*", service) and path.startswith(self.path)


@dataclass(frozen=True)
class HttpFault:
    latency_ms: int = 0
    status: int | None = None
    retry_after: float = 0.0


class Faults:
    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self.active: list[Fault] = []

    def set(self, faults: list[Fault]) -> None:
        self.active = list(faults)

    def add(self, fault: Fault) -> None:
        self.active.append(fault)

    def clear(self) -> None:
        self.active = []

    def http(self, service: str, path: str) -> HttpFault:
        """Latency and an error status (if any) for one request."""
        self._prune()
        latency = 0
        for fault in self.active:
            if fault.kind == "latency" and fault.matches(service, path) and self._fires(fault):
                latency += fault.ms
        for fault in self.active:
            if fault.kind == "status" and fault.matches(service, path) and self._fires(fault):
                return HttpFault(latency, fault.status, fault.retry_after)
        return HttpFault(latency)

    def stale_for(self, service: str, path: str) -> float:
        """How old a cached page may be served for this path (0: serve fresh)."""
        self._prune()
        for fault in self.active:
            if fault.kind == "stale" and fault.matches(service, path) and self._fires(fault):
                return fault.seconds
        return 0.0

    def rtds(self) -> str | None:
        self._prune()
        for fault in self.active:
            kind = fault.kind
            if kind in ("rtds_duplicate", "rtds_reorder") and self._fires(fault):
                return "duplicate" if kind == "rtds_duplicate" else "reorder"
        return None

    def _fires(self, fault: Fault) -> bool:
        if fault.rate < 1 and self._random.random() >= fault.rate:
            return False
        if fault.count is not None:
            fault.count -= 1
        return True

    def _prune(self) -> None:
        now = time.monotonic()
        self.active = [fault for fault in self.active if not fault.expired(now)]

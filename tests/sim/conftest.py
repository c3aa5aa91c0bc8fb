"""One local exchange per test module, on loopback, with a fixed seed and a manual clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from polytail.sim.server import RunningSim, start_sim


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSim]:
    with start_sim("synthetic", seed=7, settle_delays=(0.01, 0.02)) as running:
        yield running


def market(sim: RunningSim, slug: str) -> dict[str, Any]:
    return next(m for m in sim.admin.state()["markets"] if m["slug"] == slug)

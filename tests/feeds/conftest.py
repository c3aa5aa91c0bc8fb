"""One local exchange per test module (seeded, manual clock), and a fresh SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from polytail.sim.scenarios import load
from polytail.sim.server import RunningSim, start_sim
from polytail.store import Store


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSim]:
    scenario = load("synthetic", seed=11)
    scenario.background_interval = 0  # only the trades a test scripts
    with start_sim(scenario, settle_delays=(0.01, 0.02)) as running:
        yield running


@pytest.fixture
def sim_quiet(sim: RunningSim) -> Iterator[RunningSim]:
    """The module's exchange, its faults cleared after the test."""
    yield sim
    sim.admin.faults(clear=True)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'feeds.sqlite'}")
    yield store
    store.close()

"""Shared test support: where the recorded Polymarket data lives.

The recorded data in `../shared/data` is never copied into this repository. Tests find it
through $POLYTAIL_SHARED_DATA, else `shared/data` beside the checkout or any of its
parents. When it cannot be found the tests that need it fail with instructions (they do
not skip: a silently skipped data test is a test that proves nothing).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.databases", "tests.support.browser"]


def locate_shared_data() -> Path | None:
    explicit = os.environ.get("POLYTAIL_SHARED_DATA")
    if explicit:
        return Path(explicit)
    for base in (REPO_ROOT, *REPO_ROOT.parents):
        candidate = base / "shared" / "data"
        if (candidate / "PROVENANCE.md").exists():
            return candidate
    fallback = Path("/work/shared/data")
    return fallback if (fallback / "PROVENANCE.md").exists() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    found = locate_shared_data()
    if found is None:
        pytest.fail(
            "recorded Polymarket data not found: set POLYTAIL_SHARED_DATA to the shared/data "
            "folder (it holds PROVENANCE.md)"
        )
    return found


@pytest.fixture(scope="session")
def load_json(shared_data: Path) -> Any:
    def load(relative: str) -> Any:
        return json.loads((shared_data / relative).read_text())

    return load

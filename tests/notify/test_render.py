"""Templates: built in, overridable by file, always badged, never leaking a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from polytail.config.redaction import register_secrets
from polytail.config.schema import Mode
from polytail.engine.events import EngineError
from polytail.notify.render import Renderer, usdc


def test_every_message_carries_the_mode_badge() -> None:
    error = {"error": EngineError("broker", "connection reset", at_ms=1)}
    assert Renderer(Mode.PAPER).render("error.j2", error) == (
        "[PAPER] Error in broker: connection reset"
    )
    assert Renderer(Mode.LIVE).render("error.j2", error).startswith("[LIVE] Error in broker")


def test_an_override_directory_replaces_templates_by_name(tmp_path: Path) -> None:
    (tmp_path / "error.j2").write_text("{{ error.component | upper }} broke")
    renderer = Renderer(Mode.LIVE, tmp_path)
    context = {"error": EngineError("broker", "x", at_ms=1)}
    assert renderer.render("error.j2", context) == "[LIVE] BROKER broke"
    help_text = renderer.render("help.j2", {})  # not overridden: the built-in one
    assert help_text.startswith("[LIVE] Commands:")


def test_a_broken_override_falls_back_to_the_built_in_template(tmp_path: Path) -> None:
    (tmp_path / "error.j2").write_text("{{ error.no_such_field }}")
    renderer = Renderer(Mode.PAPER, tmp_path)
    context = {"error": EngineError("broker", "x", at_ms=1)}
    assert renderer.render("error.j2", context) == "[PAPER] Error in broker: x"


def test_an_override_cannot_drop_the_badge_or_reach_into_objects(tmp_path: Path) -> None:
    (tmp_path / "error.j2").write_text("{{ error.__class__.__mro__ }}")
    text = Renderer(Mode.LIVE, tmp_path).render("error.j2", {"error": EngineError("b", "x", 1)})
    assert text == "[LIVE] Error in b: x"  # the sandbox refused; the built-in one was used


def test_a_missing_override_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"notify\.templates_dir"):
        Renderer(Mode.PAPER, tmp_path / "nope")


def test_secrets_are_scrubbed_from_rendered_text() -> None:
    register_secrets(["0xdeadbeefcafe-secret-value"])
    context = {"error": EngineError("broker", "auth 0xdeadbeefcafe-secret-value failed", 1)}
    text = Renderer(Mode.PAPER).render("error.j2", context)
    assert "deadbeef" not in text and "***" in text


def test_amounts_keep_their_exact_digits() -> None:
    assert usdc("12.5") == "12.50"
    assert usdc("0.123456") == "0.123456"
    assert usdc("-3") == "-3.00"

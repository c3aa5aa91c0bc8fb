"""What every command shares: the global options, loading the config, failing clearly."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from polytail.config.schema import PolytailConfig


class UserError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 1."""


@dataclass
class CliState:
    config_path: Path | None = None
    debug: bool = False


STATE = CliState()


def fail(message: str, code: int = 1) -> NoReturn:
    from polytail.config.redaction import scrub  # noqa: PLC0415

    typer.echo(f"polytail: {scrub(message)}", err=True)
    raise typer.Exit(code)


def load_config_or_exit(path: Path | None = None) -> PolytailConfig:
    """Load the config (argument, else --config, else default lookup) or exit 1."""
    from polytail.config.load import ConfigError, load_config  # noqa: PLC0415

    try:
        return load_config(path or STATE.config_path, dict(os.environ))
    except ConfigError as error:
        typer.echo(error.render(), err=True)
        raise typer.Exit(1) from None


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()

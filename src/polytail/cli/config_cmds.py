"""`polytail config check` and `polytail config docs`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from polytail.cli.common import STATE

app = typer.Typer(help="Validate and document the configuration.", no_args_is_help=True)


@app.command("check")
def check(
    file: Annotated[
        Path | None, typer.Argument(help="Config file (default: --config or ./polytail.toml).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of TOML.")] = False,
) -> None:
    """Validate a config and print the effective settings, secrets redacted.

    Exit code 0 when valid, 1 when not (every problem is listed).
    """
    import json  # noqa: PLC0415

    from polytail.config.load import ConfigError, load_config  # noqa: PLC0415
    from polytail.config.redaction import scrub  # noqa: PLC0415
    from polytail.config.schema import Mode  # noqa: PLC0415
    from polytail.config.secrets import SecretError, load_secrets  # noqa: PLC0415

    env = dict(os.environ)
    try:
        config = load_config(file or STATE.config_path, env)
    except ConfigError as error:
        typer.echo(error.render(), err=True)
        raise typer.Exit(1) from None
    problems: list[str] = []
    try:
        secrets = load_secrets(config, env)
        present = secrets.present()
    except SecretError as error:
        problems.append(str(error))
        present = {}
    if config.mode is Mode.LIVE and not present.get("private_key"):
        problems.append(
            "mode = 'live' needs a signing key: POLYTAIL_PRIVATE_KEY, or wallet.keystore with "
            "POLYTAIL_KEYSTORE_PASSPHRASE"
        )
    if config.notify.telegram.enabled and not present.get("telegram_token"):
        problems.append("notify.telegram.enabled needs POLYTAIL_TELEGRAM_TOKEN")
    if config.notify.telegram.enabled and not config.notify.telegram.chat_id:
        problems.append("notify.telegram.enabled needs notify.telegram.chat_id")

    effective: dict[str, Any] = config.model_dump(mode="json", exclude_none=True)
    effective["secrets"] = {
        name: ("set" if value else "not set") for name, value in present.items()
    }
    if as_json:
        typer.echo(scrub(json.dumps(effective, indent=2)))
    else:
        import tomli_w  # noqa: PLC0415

        typer.echo(f"# effective configuration ({file or STATE.config_path or 'defaults'})")
        typer.echo(f"# mode: {config.mode.value.upper()}")
        typer.echo(scrub(tomli_w.dumps(effective)))
    if problems:
        for problem in problems:
            typer.echo(f"problem: {scrub(problem)}", err=True)
        raise typer.Exit(1)
    if not config.leaders:
        typer.echo("note: no [[leaders]] configured; nothing will be copied", err=True)
    typer.echo("configuration is valid", err=True)


@app.command("docs")
def docs() -> None:
    """Print the configuration reference (Markdown), generated from the schema."""
    from polytail.config.reference import render_reference  # noqa: PLC0415

    typer.echo(render_reference(), nl=False)

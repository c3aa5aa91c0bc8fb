"""Entry point: the Typer application and the commands it registers."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from polytail import __version__
from polytail.cli import (
    backtest_cmd,
    config_cmds,
    demo_cmd,
    doctor_cmd,
    feeds_cmd,
    leaders_cmd,
    run_cmd,
    setup_cmds,
    sim_cmd,
    status_cmds,
)
from polytail.cli.common import STATE, UserError

app = typer.Typer(
    name="polytail",
    help="polytail: copy the trades of Polymarket's best wallets, correctly.\n\n"
    "Paper trading is the default; live trading needs explicit flags. "
    "Start with `polytail init`, then `polytail config check`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"polytail {__version__}")
        raise typer.Exit


@app.callback()
def main(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            envvar="POLYTAIL_CONFIG",
            help="Config file (default: ./polytail.toml when present).",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks (secrets are still masked).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    from polytail.config.redaction import register_environment_secrets  # noqa: PLC0415

    register_environment_secrets(os.environ)
    STATE.config_path = config
    STATE.debug = debug or os.environ.get("POLYTAIL_DEBUG", "") not in ("", "0")


app.command("init")(setup_cmds.init)
app.add_typer(config_cmds.app, name="config")
app.add_typer(setup_cmds.keystore_app, name="keystore")
app.command("sim")(sim_cmd.sim)
app.add_typer(feeds_cmd.app, name="feeds")
app.command("backtest")(backtest_cmd.backtest)
app.add_typer(leaders_cmd.app, name="leaders")
app.command("run")(run_cmd.run)
app.command("demo")(demo_cmd.demo)
app.command("doctor")(doctor_cmd.doctor)
app.command("status")(status_cmds.status)
app.command("positions")(status_cmds.positions)
app.command("orders")(status_cmds.orders)
app.command("decisions")(status_cmds.decisions)
app.command("audit")(status_cmds.audit)
app.command("kill")(status_cmds.kill)


def run() -> None:
    """Console-script entry: run the app, turning failures into clear, secret-free errors."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except UserError as error:
        from polytail.config.redaction import scrub  # noqa: PLC0415

        print(f"polytail: {scrub(str(error))}", file=sys.stderr)  # noqa: T201
        sys.exit(1)
    except Exception as error:
        from polytail.config.redaction import scrub  # noqa: PLC0415

        if STATE.debug:
            import traceback  # noqa: PLC0415

            print(scrub(traceback.format_exc()), file=sys.stderr)  # noqa: T201
        print(  # noqa: T201
            f"polytail: unexpected {type(error).__name__}: {scrub(str(error))}\n"
            "Run again with --debug for the traceback, and please report it.",
            file=sys.stderr,
        )
        sys.exit(1)

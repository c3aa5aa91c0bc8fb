"""`polytail run`: copy the configured leaders until stopped (paper unless told otherwise)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from polytail.cli.common import STATE, fail, is_interactive, load_config_or_exit

LIVE_WORD = "LIVE"


def run(
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Trade real money. Needs mode = 'live' in the config as well, and a typed "
            "confirmation (or --i-understand-live-trading).",
        ),
    ] = False,
    i_understand: Annotated[
        bool,
        typer.Option(
            "--i-understand-live-trading",
            help="With --live: skip the typed confirmation (for systemd and containers).",
        ),
    ] = False,
) -> None:
    """Run the copy engine: feeds, policy, orders, ledger, web and notifications.

    Paper trading unless both switches say live: `mode = "live"` in the config AND
    `--live` here, confirmed by typing LIVE (or --i-understand-live-trading). Every line
    it prints starts with the mode. SIGINT/SIGTERM stop it gracefully (exit 0), SIGHUP
    reloads the config (it is also reloaded when the file changes), SIGUSR1 toggles the
    kill switch.
    """
    from polytail.config.schema import Mode  # noqa: PLC0415

    config = load_config_or_exit()
    if live and config.mode is not Mode.LIVE:
        fail(
            "--live was given but the config says mode = 'paper'. Live trading needs both "
            'switches: set mode = "live" in the config and pass --live'
        )
    if config.mode is Mode.LIVE and not live:
        fail(
            "the config says mode = 'live' but --live was not given; polytail never trades "
            'real money on one switch. Pass --live (and confirm), or set mode = "paper"'
        )
    if live and not i_understand:
        _confirm_live(config.wallet.address or "?", config.account)

    import asyncio  # noqa: PLC0415 - the switches are checked before the heavy imports

    from polytail.app.lock import AlreadyRunning  # noqa: PLC0415
    from polytail.app.logs import configure_logging  # noqa: PLC0415
    from polytail.app.runner import Runner  # noqa: PLC0415
    from polytail.cli.surfaces import operator_surfaces  # noqa: PLC0415
    from polytail.config.load import find_config_path  # noqa: PLC0415
    from polytail.config.secrets import SecretError, load_secrets  # noqa: PLC0415
    from polytail.notify.notifier import NotifyConfigError  # noqa: PLC0415
    from polytail.web.auth import TokenError  # noqa: PLC0415

    try:
        secrets = load_secrets(config)
    except SecretError as error:
        fail(str(error))
    configure_logging(config.logging.level, config.logging.format)
    runner = Runner(
        config,
        secrets,
        config_path=find_config_path(STATE.config_path, dict(os.environ)),
        surfaces=[operator_surfaces],
        live_confirmed=live,
        by=os.environ.get("POLYTAIL_STARTED_BY", "cli"),
        say=typer.echo,
    )
    try:
        asyncio.run(runner.run())
    except (AlreadyRunning, NotifyConfigError, TokenError) as error:
        fail(str(error))
    except OSError as error:  # e.g. the web port is taken
        fail(str(error))


def _confirm_live(wallet: str, account: str) -> None:
    if not is_interactive():
        fail(
            "live trading needs a typed confirmation; this is not a terminal. For a service, "
            "pass --i-understand-live-trading together with --live"
        )
    typer.echo(
        f"[LIVE] polytail will send real orders with real money from wallet {wallet} "
        f"(account {account})."
    )
    answer = typer.prompt(f"Type {LIVE_WORD} to continue", default="", show_default=False)
    if answer.strip() != LIVE_WORD:
        fail("not confirmed; nothing was started")

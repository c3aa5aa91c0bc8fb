"""`polytail leaders`: the leaders you copy (`list`)."""

from __future__ import annotations

import typer

from polytail.cli import status_cmds

app = typer.Typer(help="Leaders: the wallets you copy.", no_args_is_help=True)
app.command("list")(status_cmds.leaders_list)

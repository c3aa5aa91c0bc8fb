"""`polytail doctor`: check the wallet setup before the first live order."""

from __future__ import annotations

from typing import Annotated

import typer

from polytail.cli.common import load_config_or_exit

MARKS = {
    "pass": "[green]PASS[/]",
    "warn": "[yellow]WARN[/]",
    "fail": "[red]FAIL[/]",
    "skip": "[dim]SKIP[/]",
}


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check what a first live order needs, read-only, with the fix for each failure.

    Key, wallet type and funder, deployment, API credentials, pUSD and unwrapped USDC.e,
    approvals (v1, neg-risk, v2), geoblock, clock skew, SDK and venue versions, sizing
    against the minimum order size. Exit code 0 when nothing failed (warnings allowed),
    1 otherwise.
    """
    import asyncio  # noqa: PLC0415

    from polytail.app.doctor import run_doctor  # noqa: PLC0415
    from polytail.config.redaction import scrub  # noqa: PLC0415

    config = load_config_or_exit()
    report = asyncio.run(run_doctor(config))
    badge = f"[{config.mode.value.upper()}]"
    if as_json:
        import orjson  # noqa: PLC0415

        from polytail.app.jsonable import jsonable  # noqa: PLC0415

        body = {"mode": config.mode.value, "ok": report.ok, "checks": jsonable(report.checks)}
        typer.echo(scrub(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode()))
    else:
        from rich.console import Console  # noqa: PLC0415
        from rich.markup import escape  # noqa: PLC0415

        console = Console(highlight=False)
        console.print(f"{badge} polytail doctor: is this wallet ready for live orders?")
        for check in report.checks:
            console.print(
                f"{MARKS[check.status.value]} {check.name}: {escape(scrub(check.detail))}"
            )
            if check.fix and check.status.value in ("fail", "warn"):
                console.print(f"      fix: {escape(scrub(check.fix))}")
        failed = sum(1 for check in report.checks if check.status.value == "fail")
        console.print(
            f"{badge} ready for live orders" if report.ok else f"{badge} {failed} check(s) failed"
        )
    raise typer.Exit(0 if report.ok else 1)

"""`polytail sim`: run the local Polymarket exchange in the foreground."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

from polytail.cli.common import fail


def sim(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 8799,
    scenario: Annotated[
        str, typer.Option(help="synthetic, real, or a scenario file (.toml/.json).")
    ] = "synthetic",
    seed: Annotated[int | None, typer.Option(help="Seed for ids, books and flow.")] = None,
    clock: Annotated[
        str, typer.Option(help="realtime (default here) or manual (advance via the admin API).")
    ] = "realtime",
    speed: Annotated[float, typer.Option(help="Scenario seconds per real second.")] = 1.0,
) -> None:
    """Start a local Polymarket exchange (CLOB, Gamma, Data API, RTDS, RPC) on loopback."""
    import uvicorn  # noqa: PLC0415

    from polytail.sim.app import base_urls, create_app  # noqa: PLC0415
    from polytail.sim.scenarios import ScenarioError, build_exchange, load  # noqa: PLC0415
    from polytail.sim.server import free_port  # noqa: PLC0415

    if clock not in ("realtime", "manual"):
        fail("--clock must be realtime or manual")
    try:
        spec = load(scenario, seed=seed)
    except (ScenarioError, ValueError, OSError) as error:
        fail(f"cannot load scenario {scenario!r}: {error}")
    if not Path(scenario).exists():
        spec.clock = clock
    spec.speed = speed
    try:
        exchange = build_exchange(spec)
    except (ScenarioError, ValueError) as error:
        fail(f"cannot build scenario {scenario!r}: {error}")
    host = "127.0.0.1"
    chosen = port or free_port(host)
    token = secrets.token_urlsafe(24)
    typer.echo(f"polytail sim: scenario {spec.name!r}, seed {spec.seed}, clock {spec.clock}")
    for name, url in base_urls(host, chosen).items():
        typer.echo(f"  {name:<15} {url}")
    typer.echo(f"  admin token     {token}")
    typer.echo(
        "Try: curl -H 'Authorization: Bearer <token>' "
        f"http://{host}:{chosen}/admin/state   (Ctrl-C stops)"
    )
    uvicorn.run(
        create_app(exchange, token),
        host=host,
        port=chosen,
        log_level="warning",
        ws="websockets-sansio",
        timeout_graceful_shutdown=1,
    )

"""Run the local exchange: a uvicorn server in a thread, and a client for its admin API.

    with start_sim(scenario="synthetic", seed=7) as sim:
        sim.base_urls["clob"]           # http://127.0.0.1:PORT/clob
        sim.admin.fund(wallet, pusd="1000")
        sim.admin.trade(leader, token_id, "BUY", shares="50", price="0.6")
        sim.admin.advance(30)

`sdk_environment(sim.base_urls)` builds the `polymarket-client` Environment pointing at it.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from polytail.sim.app import base_urls, create_app
from polytail.sim.exchange import Exchange
from polytail.sim.scenarios import Scenario, build_exchange, load


class AdminClient:
    """The admin API over HTTP (what tests, the demo and `polytail sim` users script with)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"},
        )

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._client.request(method, path.lstrip("/"), json=body)
        if response.status_code >= 400:
            raise AdminError(response.status_code, response.json().get("error", response.text))
        return response.json()

    def state(self) -> dict[str, Any]:
        return self.call("GET", "state")  # type: ignore[no-any-return]

    def ledger(self) -> dict[str, Any]:
        return self.call("GET", "ledger")  # type: ignore[no-any-return]

    def fund(
        self,
        wallet: str,
        *,
        pusd: str = "0",
        owner: str | None = None,
        kind: str | None = None,
        name: str | None = None,
        approve: bool = True,
        shares: dict[str, str] | None = None,
        usdce: str | None = None,
    ) -> Any:
        body: dict[str, Any] = {"wallet": wallet, "pusd": pusd, "approve": approve}
        body.update(
            {
                k: v
                for k, v in (("owner", owner), ("kind", kind), ("name", name), ("usdce", usdce))
                if v
            }
        )
        if shares:
            body["shares"] = shares
        return self.call("POST", "fund", body)

    def approve(
        self, wallet: str, spender: str, *, amount: str | None = None, approved: bool | None = None
    ) -> Any:
        body: dict[str, Any] = {"wallet": wallet, "spender": spender}
        if amount is not None:
            body["amount"] = amount
        if approved is not None:
            body["approved"] = approved
        return self.call("POST", "approve", body)

    def venue(
        self, *, clob_version: int | None = None, geoblock: dict[str, Any] | None = None
    ) -> Any:
        """Set what the venue says about itself (`/version`, the geoblock answer)."""
        body: dict[str, Any] = {}
        if clob_version is not None:
            body["clob_version"] = clob_version
        if geoblock is not None:
            body["geoblock"] = geoblock
        return self.call("POST", "venue", body)

    def trade(
        self,
        wallet: str,
        token_id: str,
        side: str,
        *,
        shares: str,
        price: str,
        ensure_liquidity: bool = True,
        order_type: str = "FAK",
    ) -> Any:
        return self.call(
            "POST",
            "trade",
            {
                "wallet": wallet,
                "token_id": token_id,
                "side": side,
                "shares": shares,
                "price": price,
                "ensure_liquidity": ensure_liquidity,
                "order_type": order_type,
            },
        )

    def burst(
        self, wallet: str, token_id: str, side: str, *, count: int, shares_each: str, price: str
    ) -> Any:
        return self.call(
            "POST",
            "burst",
            {
                "wallet": wallet,
                "token_id": token_id,
                "side": side,
                "count": count,
                "shares_each": shares_each,
                "price": price,
            },
        )

    def order(
        self,
        wallet: str,
        token_id: str,
        side: str,
        *,
        shares: str,
        price: str,
        order_type: str = "GTC",
        post_only: bool = False,
    ) -> Any:
        return self.call(
            "POST",
            "order",
            {
                "wallet": wallet,
                "token_id": token_id,
                "side": side,
                "shares": shares,
                "price": price,
                "order_type": order_type,
                "post_only": post_only,
            },
        )

    def resolve(
        self, condition_id: str, *, winner: int | None = None, payouts: list[str] | None = None
    ) -> Any:
        body: dict[str, Any] = {"condition_id": condition_id}
        if payouts is not None:
            body["payouts"] = payouts
        else:
            body["winner"] = winner
        return self.call("POST", "resolve", body)

    def redeem(self, wallet: str, condition_id: str) -> Any:
        return self.call("POST", "redeem", {"wallet": wallet, "condition_id": condition_id})

    def relayer_key(self, address: str | None = None) -> dict[str, str]:
        """A key the relayer accepts: a Relayer API key for `address` (`key`, `address`),
        or without one a Builder API key (`key`, `secret`, `passphrase`)."""
        body = {"address": address} if address else {}
        return self.call("POST", "relayer/keys", body)  # type: ignore[no-any-return]

    def settle_trade(self, trade_id: str, status: str = "CONFIRMED") -> Any:
        return self.call("POST", "trades/settle", {"trade_id": trade_id, "status": status})

    def fail_trade(self, trade_id: str) -> Any:
        return self.call("POST", "trades/fail", {"trade_id": trade_id})

    def advance(self, seconds: float) -> Any:
        return self.call("POST", "clock/advance", {"seconds": seconds})

    def faults(
        self,
        *,
        set: list[dict[str, Any]] | None = None,
        add: list[dict[str, Any]] | None = None,
        clear: bool = False,
    ) -> Any:
        body: dict[str, Any] = {"clear": clear}
        if set is not None:
            body["set"] = set
        if add is not None:
            body["add"] = add
        return self.call("POST", "faults", body)

    def restart(self, *, down_seconds: float = 1.0, post_only_seconds: float = 120.0) -> Any:
        return self.call(
            "POST",
            "restart",
            {"down_seconds": down_seconds, "post_only_seconds": post_only_seconds},
        )

    def drop(self, channel: str | None = None) -> Any:
        return self.call("POST", "drop", {"channel": channel} if channel else {})

    def close(self) -> None:
        self._client.close()


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass
class RunningSim:
    host: str
    port: int
    admin_token: str
    exchange: Exchange
    base_urls: dict[str, str] = field(default_factory=dict)
    admin: AdminClient = field(init=False)

    def __post_init__(self) -> None:
        self.base_urls = base_urls(self.host, self.port)
        self.admin = AdminClient(self.base_urls["admin"], self.admin_token)


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the thread's owner handles signals
        return


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def start_sim(
    scenario: str | Scenario = "synthetic",
    *,
    seed: int | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    admin_token: str | None = None,
    settle_delays: tuple[float, float] | None = (0.02, 0.05),
) -> Iterator[RunningSim]:
    """Start the exchange on loopback in a background thread; stop it on exit."""
    spec = load(scenario, seed=seed) if isinstance(scenario, str) else scenario
    if seed is not None:
        spec.seed = seed
    exchange = build_exchange(spec, settle_delays=settle_delays)
    token = admin_token or secrets.token_urlsafe(24)
    chosen = port or free_port(host)
    config = uvicorn.Config(
        create_app(exchange, token),
        host=host,
        port=chosen,
        log_level="warning",
        lifespan="on",
        ws="websockets-sansio",
        timeout_graceful_shutdown=1,
    )
    server = _Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve()), name="polytail-sim", daemon=True
    )
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"polytail sim could not start on {host}:{chosen}")
        threading.Event().wait(0.01)
    running = RunningSim(host=host, port=chosen, admin_token=token, exchange=exchange)
    try:
        yield running
    finally:
        running.admin.close()
        loop = exchange._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(exchange.hub.drop)
        server.should_exit = True
        thread.join(timeout=10)


def sdk_environment(urls: dict[str, str], name: str = "polytail-sim") -> Any:
    """A `polymarket-client` Environment whose services are the local exchange.

    Chain id and contract addresses stay the production ones, so orders are signed (and
    verified) exactly as on the venue.
    """
    import dataclasses  # noqa: PLC0415

    from polymarket._internal.environment import (  # noqa: PLC0415
        PRODUCTION_CONFIG,
        create_environment,
    )

    config = dataclasses.replace(
        PRODUCTION_CONFIG,
        clob_url=urls["clob"],
        gamma_url=urls["gamma"],
        data_url=urls["data"],
        relayer_url=urls["relayer"],
        rpc_url=urls["rpc"],
        clob_market_ws_url=urls["clob_market_ws"],
        clob_user_ws_url=urls["clob_user_ws"],
        rtds_ws_url=urls["rtds_ws"],
    )
    return create_environment(name=name, config=config)

"""Faults the real venue produces, switched on at runtime through the admin API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
import websockets

from polytail.sim.server import AdminError, RunningSim, start_sim

from .conftest import market


@pytest.fixture
def quiet(sim: RunningSim) -> Iterator[RunningSim]:
    yield sim
    sim.admin.faults(clear=True)


def test_429_carries_retry_after_and_stops_after_count(quiet: RunningSim) -> None:
    quiet.admin.faults(
        set=[{"kind": "status", "service": "data", "status": 429, "retry_after": 3, "count": 2}]
    )
    url = quiet.base_urls["data"] + "/trades"
    first, second, third = (httpx.get(url) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "3"
    assert httpx.get(quiet.base_urls["gamma"] + "/markets").status_code == 200


def test_5xx_and_latency_are_scoped_to_a_path(quiet: RunningSim) -> None:
    quiet.admin.faults(
        set=[
            {"kind": "status", "service": "clob", "path": "/book", "status": 503, "count": 1},
            {"kind": "latency", "service": "gamma", "ms": 150, "count": 1},
        ]
    )
    token = market(quiet, "btc-above-150k-dec-31")["token_ids"][0]
    assert (
        httpx.get(quiet.base_urls["clob"] + "/midpoint", params={"token_id": token}).status_code
        == 200
    )
    assert (
        httpx.get(quiet.base_urls["clob"] + "/book", params={"token_id": token}).status_code == 503
    )
    slow = httpx.get(quiet.base_urls["gamma"] + "/markets")
    assert slow.status_code == 200 and slow.elapsed.total_seconds() >= 0.15


def test_stale_data_pages_hide_a_new_trade_until_the_window_passes(quiet: RunningSim) -> None:
    wallet = "0x6666666666666666666666666666666666666666"
    token = market(quiet, "fed-cuts-in-december")["token_ids"][0]
    quiet.admin.trade(wallet, token, "BUY", shares="10", price="0.70")
    url = quiet.base_urls["data"] + "/activity"
    assert len(httpx.get(url, params={"user": wallet}).json()) == 1
    quiet.admin.faults(
        set=[{"kind": "stale", "service": "data", "path": "/activity", "seconds": 60}]
    )
    quiet.admin.trade(wallet, token, "BUY", shares="10", price="0.70")
    assert len(httpx.get(url, params={"user": wallet}).json()) == 1  # the cached page
    quiet.admin.faults(clear=True)
    assert len(httpx.get(url, params={"user": wallet}).json()) == 2


def test_an_engine_restart_gives_425_then_a_post_only_window() -> None:
    from eth_account import Account  # noqa: PLC0415
    from polymarket import AsyncSecureClient  # noqa: PLC0415
    from polymarket.errors import RequestRejectedError  # noqa: PLC0415

    from polytail.sim.server import sdk_environment  # noqa: PLC0415

    with start_sim("synthetic", seed=3) as own:
        account = Account.create()
        own.admin.fund(account.address, pusd="100")
        token = market(own, "btc-above-150k-dec-31")["token_ids"][0]

        async def run() -> None:
            client = await AsyncSecureClient.create(
                private_key=account.key.hex(),
                wallet=account.address,
                environment=sdk_environment(own.base_urls),
            )
            try:
                own.admin.restart(down_seconds=0.3, post_only_seconds=30)
                with pytest.raises(RequestRejectedError) as early:
                    await client.place_limit_order(
                        token_id=token, price="0.20", size="10", side="BUY"
                    )
                assert early.value.status == 425 and early.value.restriction == "restarting"
                await asyncio.sleep(0.35)
                with pytest.raises(RequestRejectedError, match="post-only mode"):
                    await client.place_limit_order(
                        token_id=token, price="0.20", size="10", side="BUY"
                    )
                resting = await client.place_limit_order(
                    token_id=token, price="0.20", size="10", side="BUY", post_only=True
                )
                assert resting.ok and resting.status == "live"
            finally:
                await client.close()

        asyncio.run(run())


async def test_rtds_duplicates_and_dropped_connections(quiet: RunningSim) -> None:
    wallet = "0x7777777777777777777777777777777777777777"
    token = market(quiet, "mayor-runoff-winner-a")["token_ids"][1]
    quiet.admin.faults(set=[{"kind": "rtds_duplicate", "count": 1}])
    async with websockets.connect(quiet.base_urls["rtds_ws"]) as socket:
        await socket.send(
            json.dumps(
                {"action": "subscribe", "subscriptions": [{"topic": "activity", "type": "trades"}]}
            )
        )
        await asyncio.sleep(0.05)
        await asyncio.to_thread(quiet.admin.trade, wallet, token, "BUY", shares="10", price="0.60")
        async with asyncio.timeout(5):
            frames = [json.loads(await socket.recv()) for _ in range(3)]
        assert frames[0] == frames[1]  # the maker's frame, sent twice
        assert await asyncio.to_thread(quiet.admin.drop, "rtds") == {"dropped": 1}
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(5):
                await socket.recv()


def test_bad_fault_descriptions_are_refused_with_the_reason(quiet: RunningSim) -> None:
    with pytest.raises(AdminError, match="a status fault needs status"):
        quiet.admin.faults(set=[{"kind": "status", "status": 200}])
    with pytest.raises(AdminError, match="unknown fault field"):
        quiet.admin.faults(set=[{"kind": "latency", "millis": 5}])


async def test_rtds_reorder_delivers_a_held_frame_right_after_the_next_one(
    quiet: RunningSim,
) -> None:
    wallet = "0x7878787878787878787878787878787878787878"
    token = market(quiet, "mayor-runoff-winner-a")["token_ids"][0]
    async with websockets.connect(quiet.base_urls["rtds_ws"]) as socket:
        await socket.send(
            json.dumps(
                {"action": "subscribe", "subscriptions": [{"topic": "activity", "type": "trades"}]}
            )
        )
        await asyncio.sleep(0.05)
        quiet.admin.faults(set=[{"kind": "rtds_reorder", "count": 1}])
        done = await asyncio.to_thread(
            quiet.admin.trade, wallet, token, "BUY", shares="10", price="0.60"
        )
        async with asyncio.timeout(5):
            frames = [json.loads(await socket.recv()) for _ in range(2)]
    wallets = [frame["payload"]["proxyWallet"] for frame in frames]
    assert wallets[0] == wallet  # the taker's row overtook the maker's, which follows it
    assert wallets[1] != wallet
    assert {frame["payload"]["transactionHash"] for frame in frames} == {done["transaction_hash"]}

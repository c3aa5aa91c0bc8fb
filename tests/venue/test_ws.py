"""Websocket clients reconnect with backoff, detect staleness and resubscribe."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection

from polytail.config.secrets import Secret
from polytail.domain.fills import FeedSource, LeaderFill
from polytail.venue.clob_ws import MarketChannel, UserChannel
from polytail.venue.rtds import SUBSCRIBE, RtdsClient, StreamReject
from polytail.venue.ws import Backoff, Frame, Reconnected, ReconnectingSocket
from tests.venue.loopback import ws_server

FAST = Backoff(min_s=0.02, max_s=0.2, rng=random.Random(7))


def test_backoff_grows_never_shrinks_and_stays_bounded() -> None:
    backoff = Backoff(min_s=0.5, max_s=30.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(10)]
    assert all(0.25 <= d <= 30 for d in delays)
    assert delays[5] >= delays[0] and max(delays) <= 30.0
    backoff.reset()
    assert backoff.next_delay() <= 0.5


async def test_a_dropped_connection_reconnects_with_growing_backoff_and_resubscribes() -> None:
    connects: list[float] = []
    received: list[str] = []

    async def drop_three_times(connection: ServerConnection) -> None:
        connects.append(time.monotonic())
        received.append(str(await connection.recv()))
        if len(connects) <= 3:
            return  # close without a frame: the client must back off and retry
        await connection.send('{"n": 1}')
        await connection.wait_closed()

    async with ws_server(drop_three_times) as url:
        socket = ReconnectingSocket(
            url, subscribe_frames=lambda: ['{"sub": 1}'], stale_after_s=5, backoff=FAST
        )
        events: list[Any] = []
        async for event in socket.frames():
            events.append(event)
            if isinstance(event, Frame):
                break
        await socket.close()

    assert isinstance(events[0], Reconnected) and isinstance(events[-1], Frame)
    assert received == ['{"sub": 1}'] * 4  # resubscribed on every connection
    gaps = [b - a for a, b in itertools.pairwise(connects)]
    assert gaps[0] >= 0.01 and gaps[2] >= gaps[0]  # exponential backoff
    assert socket.stats.connects == 4 and socket.stats.reconnects == 3
    assert sum(isinstance(e, Reconnected) for e in events) == 3


async def test_a_silent_connection_is_detected_as_stale_and_replaced() -> None:
    connects = 0

    async def silent_then_talkative(connection: ServerConnection) -> None:
        nonlocal connects
        connects += 1
        await connection.recv()
        if connects == 1:
            await connection.wait_closed()  # alive but silent: RTDS has stalled like this
            return
        await connection.send('{"ok": true}')
        await connection.wait_closed()

    async with ws_server(silent_then_talkative) as url:
        socket = ReconnectingSocket(
            url, subscribe_frames=lambda: ["x"], stale_after_s=0.2, backoff=FAST
        )
        async for event in socket.frames():
            if isinstance(event, Frame):
                break
        await socket.close()

    assert connects == 2 and socket.stats.stale == 1


async def test_keepalive_pings_are_sent_and_pongs_are_not_frames() -> None:
    pings: list[str] = []

    async def pong(connection: ServerConnection) -> None:
        await connection.recv()
        while True:
            message = await connection.recv()
            pings.append(str(message))
            await connection.send("PONG")
            if len(pings) == 2:
                await connection.send('{"event_type": "book"}')

    async with ws_server(pong) as url:
        channel = MarketChannel(url, ["123"], ping_interval_s=0.05, backoff=FAST)
        async for event in channel.events():
            assert not isinstance(event, Reconnected)
            assert event == {"event_type": "book"}
            break
        await channel.close()
    assert pings[:2] == ["PING", "PING"]


async def test_market_channel_subscribes_by_asset_and_adds_assets_live() -> None:
    frames: list[dict[str, Any]] = []
    ready = asyncio.Event()

    async def record(connection: ServerConnection) -> None:
        frames.append(orjson.loads(await connection.recv()))
        ready.set()
        frames.append(orjson.loads(await connection.recv()))
        await connection.send('[{"event_type": "price_change"}, {"event_type": "book"}]')
        await connection.wait_closed()

    async with ws_server(record) as url:
        channel = MarketChannel(url, ["2", "1"], backoff=FAST)
        events = channel.events()
        reader = asyncio.create_task(anext(events))
        await ready.wait()
        await channel.subscribe(["3"])
        first = await reader
        second = await anext(events)
        await channel.close()

    assert frames[0] == {"type": "market", "assets_ids": ["1", "2"], "custom_feature_enabled": True}
    assert frames[1] == {
        "operation": "subscribe",
        "assets_ids": ["3"],
        "custom_feature_enabled": True,
    }
    assert [first, second] == [{"event_type": "price_change"}, {"event_type": "book"}]


async def test_user_channel_authenticates_in_the_subscribe_frame() -> None:
    got: list[dict[str, Any]] = []

    async def record(connection: ServerConnection) -> None:
        got.append(orjson.loads(await connection.recv()))
        await connection.send('{"event_type": "trade", "status": "MATCHED"}')
        await connection.wait_closed()

    async with ws_server(record) as url:
        channel = UserChannel(
            url,
            api_key=Secret("k"),
            api_secret=Secret("s"),
            api_passphrase=Secret("p"),
            markets=["0xabc"],
            backoff=FAST,
        )
        event = await anext(channel.events())
        await channel.close()

    assert got == [
        {
            "type": "user",
            "auth": {"apiKey": "k", "secret": "s", "passphrase": "p"},
            "markets": ["0xabc"],
        }
    ]
    assert event == {"event_type": "trade", "status": "MATCHED"}


async def test_rtds_streams_watched_fills_and_reports_gaps(load_json: Any) -> None:
    rows = load_json("pscanner/activity.json")
    watched = rows[0]["proxyWallet"]
    other = {**rows[1], "proxyWallet": "0x9fb96c5cf2027d0ce8e0e92fc30b52e81f001866"}
    connections = 0

    def frame(row: dict[str, Any]) -> str:
        payload = {k: v for k, v in row.items() if k not in ("type", "usdcSize")}
        return orjson.dumps({"topic": "activity", "type": "trades", "payload": payload}).decode()

    async def stream(connection: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        assert await connection.recv() == SUBSCRIBE
        if connections == 1:
            await connection.send(frame(other))
            await connection.send(frame(rows[0]))
            return  # drop: the client reconnects and reports the gap
        await connection.send("{broken")
        await connection.send(frame(rows[2]))
        await connection.wait_closed()

    async with ws_server(stream) as url:
        client = RtdsClient(url, stale_after_s=5, backoff=FAST)
        seen: list[Any] = []
        async for event in client.fills({watched}):
            seen.append(event)
            if len(seen) == 4:
                break
        await client.close()

    first, gap, reject, third = seen
    assert isinstance(first, LeaderFill) and first.source is FeedSource.STREAM
    assert first.tx_hash == rows[0]["transactionHash"]
    assert isinstance(gap, Reconnected)
    assert isinstance(reject, StreamReject) and reject.error.field == "frame"
    assert isinstance(third, LeaderFill) and third.tx_hash == rows[2]["transactionHash"]

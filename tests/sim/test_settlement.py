"""Trade settlement on the user channel: with manual settlement a fill stays MATCHED until the
test says otherwise, then goes MINED → CONFIRMED, or RETRYING → FAILED with every balance it
moved moved back (the venue reverses failed trades)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from eth_account import Account
from polymarket import AsyncSecureClient
from polymarket.streams import UserSpec

from polytail.sim.server import AdminError, RunningSim, sdk_environment, start_sim

from .conftest import market


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with start_sim("synthetic", seed=7, settle_delays=None) as running:
        yield running


async def statuses(events: AsyncIterator[Any], trade_id: str, count: int) -> list[str]:
    seen: list[str] = []
    async with asyncio.timeout(5):
        async for event in events:
            if event.type == "trade" and event.payload.id == trade_id:
                seen.append(event.payload.status)
                if len(seen) == count:
                    return seen
    return seen  # pragma: no cover


async def resting_buyer(sim: RunningSim) -> tuple[AsyncSecureClient, str, str, str]:
    account = Account.create()
    sim.admin.fund(account.address, pusd="100")
    token = market(sim, "btc-above-150k-dec-31")["token_ids"][0]
    client = await AsyncSecureClient.create(
        private_key=account.key.hex(),
        wallet=account.address,
        environment=sdk_environment(sim.base_urls),
    )
    # The best bid, inside the spread: the scripted seller below trades with it first.
    book = sim.exchange.engine.books[token]
    price = (book.best_bid() + 10_000) / 1_000_000
    assert price * 1_000_000 < book.best_ask()
    placed = await client.place_limit_order(
        token_id=token, price=f"{price:.2f}", size="40", side="BUY"
    )
    assert placed.ok and placed.status == "live"
    return client, token, account.address, f"{price:.2f}"


async def test_a_fill_stays_matched_until_settled(sim: RunningSim) -> None:
    client, token, wallet, price = await resting_buyer(sim)
    try:
        events = await client.subscribe(UserSpec())
        seller = Account.create().address
        trade = sim.admin.trade(seller, token, "SELL", shares="40", price=price)
        assert await statuses(events, trade["trade_id"], 1) == ["MATCHED"]
        listed = [t async for page in client.list_account_trades() for t in page.items]
        assert [t.status for t in listed if t.id == trade["trade_id"]] == ["MATCHED"]

        sim.admin.settle_trade(trade["trade_id"])
        assert await statuses(events, trade["trade_id"], 2) == ["MINED", "CONFIRMED"]
        with pytest.raises(AdminError, match="only a settling trade fails"):
            sim.admin.fail_trade(trade["trade_id"])  # final: it can no longer fail
        await events.close()
    finally:
        await client.close()
    assert sim.exchange.engine.balance(wallet, token) == 40_000_000


async def test_a_failed_trade_is_reversed(sim: RunningSim) -> None:
    client, token, wallet, price = await resting_buyer(sim)
    engine = sim.exchange.engine
    cash = engine.balance(wallet)
    try:
        events = await client.subscribe(UserSpec())
        seller = Account.create().address
        trade = sim.admin.trade(seller, token, "SELL", shares="40", price=price)
        assert engine.balance(wallet, token) == 40_000_000
        sim.admin.settle_trade(trade["trade_id"], "MINED")
        sim.admin.fail_trade(trade["trade_id"])
        assert await statuses(events, trade["trade_id"], 4) == [
            "MATCHED",
            "MINED",
            "RETRYING",
            "FAILED",
        ]
        await events.close()
    finally:
        await client.close()
    assert engine.balance(wallet, token) == 0
    assert engine.balance(wallet) == cash
    assert sim.admin.ledger()["conserved"]

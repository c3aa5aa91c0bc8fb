"""The official SDK (`polymarket-client` 0.14.0) trades against the local exchange.

This is the acceptance test of the exchange: the real SDK derives credentials, signs
orders, places limit and market orders, hears its fills on the user channel, cancels, and
reads balances and allowances, with nothing mocked. A tampered signature is refused with
the venue's `invalid signature`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal

import pytest
from eth_account import Account
from polymarket import AsyncSecureClient
from polymarket._internal.wallet import (
    derive_beacon_deposit_wallet_address,
    derive_proxy_wallet_address,
)
from polymarket.errors import RequestRejectedError
from polymarket.streams import UserSpec

from polytail.sim.server import RunningSim, sdk_environment
from polytail.sim.signing import EXCHANGE_V2

from .conftest import market

pytestmark = pytest.mark.slow


async def client_for(sim: RunningSim, key: str, wallet: str | None) -> AsyncSecureClient:
    return await AsyncSecureClient.create(
        private_key=key, wallet=wallet, environment=sdk_environment(sim.base_urls)
    )


async def test_an_eoa_trades_through_the_official_sdk(sim: RunningSim) -> None:
    account = Account.create()
    sim.admin.fund(account.address, pusd="500")
    token = market(sim, "btc-above-150k-dec-31")["token_ids"][0]
    client = await client_for(sim, account.key.hex(), account.address)
    try:
        assert client.credentials.key in await client.fetch_api_keys()
        again = await client_for(sim, account.key.hex(), account.address)
        assert again.credentials.key == client.credentials.key  # derive returns the same key
        await again.close()

        events = await client.subscribe(UserSpec())
        resting = await client.place_limit_order(
            token_id=token, price="0.30", size="20", side="BUY"
        )
        assert resting.ok and resting.status == "live"
        opened = [order async for page in client.list_open_orders() for order in page.items]
        assert [order.id for order in opened] == [resting.order_id]

        bought = await client.place_market_order(token_id=token, side="BUY", amount="10")
        assert bought.ok and bought.status == "matched" and bought.trade_ids
        hashes = await client.wait_for_order_fill_settlement(bought, timeout_s=5)
        assert hashes == bought.transactions_hashes

        statuses = []
        async with asyncio.timeout(5):
            async for event in events:
                if event.type == "trade" and event.payload.id == bought.trade_ids[0]:
                    statuses.append(event.payload.status)
                    if event.payload.status == "CONFIRMED":
                        break
        assert statuses == ["MATCHED", "MINED", "CONFIRMED"]
        await events.close()

        shares = await client.get_balance_allowance(asset_type="CONDITIONAL", token_id=token)
        assert shares.balance == int(bought.taking_amount * 1_000_000)
        cash = await client.get_balance_allowance(asset_type="COLLATERAL")
        assert cash.balance == 500_000_000 - int(bought.making_amount * 1_000_000)
        assert cash.allowances[EXCHANGE_V2] > 0

        sold = await client.place_market_order(
            token_id=token, side="SELL", shares=str(bought.taking_amount / 2)
        )
        assert sold.ok and sold.status == "matched"

        canceled = await client.cancel_order(order_id=resting.order_id)
        assert canceled.canceled == (resting.order_id,)
        assert [o async for page in client.list_open_orders() for o in page.items] == []
        trades = [t async for page in client.list_account_trades() for t in page.items]
        assert {t.id for t in trades} >= set(bought.trade_ids) | set(sold.trade_ids)
    finally:
        await client.close()
    assert sim.admin.ledger()["conserved"]


async def test_a_tampered_or_foreign_signature_is_refused(sim: RunningSim) -> None:
    account, stranger = Account.create(), Account.create()
    sim.admin.fund(account.address, pusd="100")
    token = market(sim, "fed-cuts-in-december")["token_ids"][0]  # a v2 (ExchangeV3) market
    client = await client_for(sim, account.key.hex(), account.address)
    try:
        signed = await client.create_limit_order(
            token_id=token, price="0.40", size="10", side="BUY"
        )
        raw = bytearray(bytes.fromhex(signed.signature[2:]))
        raw[10] ^= 0xFF
        tampered = dataclasses.replace(signed, signature="0x" + raw.hex())
        with pytest.raises(RequestRejectedError) as rejected:
            await client.post_order(tampered)
        assert rejected.value.status == 400 and str(rejected.value) == "invalid signature"

        foreign = await client_for(sim, stranger.key.hex(), stranger.address)
        signed_by_stranger = await foreign.create_limit_order(
            token_id=token, price="0.40", size="10", side="BUY"
        )
        await foreign.close()
        forged = dataclasses.replace(signed, signature=signed_by_stranger.signature)
        with pytest.raises(RequestRejectedError, match="invalid signature"):
            await client.post_order(forged)

        accepted = await client.post_order(signed)
        assert accepted.ok and accepted.status == "live"
    finally:
        await client.close()


async def test_proxy_and_deposit_wallets_sign_for_their_owner(sim: RunningSim) -> None:
    config = sdk_environment(sim.base_urls)._config
    token = market(sim, "best-picture-the-long-road")["token_ids"][0]  # neg-risk exchange
    for kind, derive in (
        ("POLY_PROXY", derive_proxy_wallet_address),
        ("DEPOSIT_WALLET", derive_beacon_deposit_wallet_address),
    ):
        owner = Account.create()
        wallet = derive(owner.address, config.wallet_derivation)
        sim.admin.fund(wallet, pusd="50", owner=owner.address, kind=kind)
        client = await client_for(
            sim, owner.key.hex(), None if kind == "DEPOSIT_WALLET" else wallet
        )
        try:
            assert client.wallet == wallet
            done = await client.place_market_order(token_id=token, side="BUY", amount="5")
            assert done.ok and done.status == "matched", kind
            cash = await client.get_balance_allowance(asset_type="COLLATERAL")
            assert cash.balance == 50_000_000 - int(done.making_amount * 1_000_000)
        finally:
            await client.close()


async def test_an_order_beyond_the_balance_gets_the_venues_refusal(sim: RunningSim) -> None:
    account = Account.create()
    sim.admin.fund(account.address, pusd="3")
    token = market(sim, "btc-above-150k-dec-31")["token_ids"][0]
    client = await client_for(sim, account.key.hex(), account.address)
    try:
        with pytest.raises(RequestRejectedError, match="not enough balance / allowance"):
            await client.place_limit_order(token_id=token, price="0.30", size="20", side="BUY")
        assert (
            Decimal(3)
            == Decimal((await client.get_balance_allowance(asset_type="COLLATERAL")).balance)
            / 1_000_000
        )
    finally:
        await client.close()

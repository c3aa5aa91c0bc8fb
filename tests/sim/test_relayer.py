"""The local relayer: the official SDK redeems from proxy, Safe and deposit wallets through
it exactly as it would through Polymarket's (gasless: the owner signs, the relayer sends),
every claim pays once, and the relayer refuses a forged signature, a replayed nonce and a
wrong or missing API key without moving anything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_account import Account
from polymarket import AsyncSecureClient
from polymarket._internal.actions.relayer.calls import ctf_redeem_positions_call
from polymarket._internal.actions.relayer.gasless import build_signed_payload_for_wallet_type
from polymarket._internal.wallet import (
    derive_beacon_deposit_wallet_address,
    derive_proxy_wallet_address,
    derive_safe_wallet_address,
)
from polymarket.auth import ApiKey, BuilderApiKey, RelayerApiKey
from polymarket.errors import RequestRejectedError, UserInputError

from polytail.sim.chain import TRANSFER, TRANSFER_SINGLE, topic_address
from polytail.sim.contracts import COLLATERAL_ADAPTER
from polytail.sim.relayer import PROXY_FACTORY
from polytail.sim.server import AdminError, RunningSim, sdk_environment
from polytail.sim.signing import PUSD
from tests.support.sim import (
    exchange_market,
    pusd_units,
    redeem_again_pays_nothing,
    redemption_sim,
    share_units,
)

DERIVE = {
    "POLY_PROXY": derive_proxy_wallet_address,
    "GNOSIS_SAFE": derive_safe_wallet_address,
    "DEPOSIT_WALLET": derive_beacon_deposit_wallet_address,
}


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with redemption_sim("relayer", seed=23) as running:
        yield running


def wallet_holding(sim: RunningSim, kind: str, slug: str) -> tuple[Any, str, Any]:
    """An owner, its `kind` wallet holding 20 shares of outcome 0 of `slug`, the market
    (resolved to outcome 0)."""
    owner = Account.create()
    config = sdk_environment(sim.base_urls)._config
    wallet = DERIVE[kind](owner.address, config.wallet_derivation)
    sim.admin.fund(wallet, pusd="100", owner=owner.address, kind=kind)
    market = exchange_market(sim, slug)
    sim.admin.trade(wallet, market.token_ids[0], "BUY", shares="20", price="0.7")
    if market.payouts is None:
        sim.admin.resolve(market.condition_id, winner=0)
    return owner, wallet, market


def relayer_key(sim: RunningSim, owner: Any, kind: str) -> ApiKey:
    if kind == "builder":
        made = sim.admin.relayer_key()
        return BuilderApiKey(key=made["key"], secret=made["secret"], passphrase=made["passphrase"])
    made = sim.admin.relayer_key(owner.address)
    return RelayerApiKey(key=made["key"], address=made["address"])


async def client_for(
    sim: RunningSim, owner: Any, wallet: str, api_key: ApiKey | None
) -> AsyncSecureClient:
    return await AsyncSecureClient.create(
        private_key=owner.key.hex(),
        wallet=wallet,
        environment=sdk_environment(sim.base_urls),
        api_key=api_key,
    )


def rpc(sim: RunningSim, method: str, *params: Any) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    return httpx.post(sim.base_urls["rpc"], json=body, timeout=10).json()["result"]


@pytest.mark.parametrize("slug", ["plain", "negrisk", "protocol-v2"])
@pytest.mark.parametrize(
    ("kind", "key_kind"),
    [("POLY_PROXY", "relayer"), ("GNOSIS_SAFE", "builder"), ("DEPOSIT_WALLET", "relayer")],
)
async def test_the_sdk_redeems_a_wallets_claim_once_through_the_relayer(
    sim: RunningSim, kind: str, key_kind: str, slug: str
) -> None:
    owner, wallet, market = wallet_holding(sim, kind, slug)
    token = market.token_ids[0]
    held, cash = share_units(sim, wallet, token), pusd_units(sim, wallet)
    assert held == 20_000_000
    client = await client_for(sim, owner, wallet, relayer_key(sim, owner, key_kind))
    try:
        assert client.wallet_type == kind
        if market.version == "v2":
            handle = await client.redeem_positions(position_id=token)
        else:
            handle = await client.redeem_positions(condition_id=market.condition_id)
        outcome = await handle.wait()
        assert pusd_units(sim, wallet) == cash + held  # exactly $1 a winning share
        assert share_units(sim, wallet, token) == 0
        assert sim.exchange.relayer.nonce(wallet) == 1

        receipt = rpc(sim, "eth_getTransactionReceipt", outcome.transaction_hash)
        assert receipt["status"] == "0x1"
        assert receipt["from"] == sim.exchange.relayer.address.lower()  # the relayer paid gas
        burn = next(log for log in receipt["logs"] if log["topics"][0] == TRANSFER_SINGLE)
        assert burn["topics"][2] == topic_address(wallet)
        paid = next(log for log in receipt["logs"] if log["topics"][0] == TRANSFER)
        assert paid["address"] == PUSD.lower() and paid["topics"][2] == topic_address(wallet)
        assert int(paid["data"], 16) == held

        async with httpx.AsyncClient() as http:
            found = await http.get(
                f"{sim.base_urls['data']}/activity", params={"user": wallet, "type": "REDEEM"}
            )
        assert [(r["type"], r["transactionHash"]) for r in found.json()] == [
            ("REDEEM", outcome.transaction_hash)
        ]

        await redeem_again_pays_nothing(sim, client, market, token, wallet)
        assert pusd_units(sim, wallet) == cash + held
    finally:
        await client.close()
    assert sim.admin.ledger()["conserved"]


async def signed_redemption(client: AsyncSecureClient, market: Any) -> dict[str, Any]:
    """The envelope the SDK would submit for redeeming `market` (freshly signed)."""
    call = ctf_redeem_positions_call(
        ctf=COLLATERAL_ADAPTER,  # type: ignore[arg-type]
        collateral=PUSD,  # type: ignore[arg-type]
        condition_id=market.condition_id,
    )
    payload = await build_signed_payload_for_wallet_type(client._ctx, calls=[call], metadata="")
    return dict(payload)


def forged(signature: str) -> str:
    """The same signature with one bit of `s` flipped: it recovers to someone else."""
    raw = bytearray(bytes.fromhex(signature[2:]))
    raw[40] ^= 1
    return "0x" + raw.hex()


@pytest.mark.parametrize("kind", ["POLY_PROXY", "GNOSIS_SAFE", "DEPOSIT_WALLET"])
async def test_a_forged_signature_and_a_replayed_nonce_are_refused(
    sim: RunningSim, kind: str
) -> None:
    owner, wallet, market = wallet_holding(sim, kind, "plain")
    token = market.token_ids[0]
    held, cash = share_units(sim, wallet, token), pusd_units(sim, wallet)
    client = await client_for(sim, owner, wallet, relayer_key(sim, owner, "builder"))
    relayer = client._ctx.relayer
    try:
        honest = await signed_redemption(client, market)
        tampered = {**honest, "signature": forged(str(honest["signature"]))}
        with pytest.raises(RequestRejectedError, match="invalid signature") as refused:
            await relayer.post_json("/submit", json=tampered)
        assert refused.value.status == 400
        # A stranger (with a builder key, which may act for anyone) claims the wallet.
        stranger = Account.create()
        envelope = {**honest, "from": stranger.address}
        with pytest.raises(RequestRejectedError, match=r"no \w+ wallet is deployed"):
            await relayer.post_json("/submit", json=envelope)
        assert (pusd_units(sim, wallet), share_units(sim, wallet, token)) == (cash, held)
        assert sim.exchange.relayer.nonce(wallet) == 0

        accepted = await relayer.post_json("/submit", json=honest)
        assert accepted["transactionHash"].startswith("0x")
        assert pusd_units(sim, wallet) == cash + held
        with pytest.raises(RequestRejectedError, match="batch nonce 0 does not match") as replay:
            await relayer.post_json("/submit", json=honest)
        assert replay.value.status == 400
        assert pusd_units(sim, wallet) == cash + held
        assert sim.exchange.relayer.nonce(wallet) == 1
    finally:
        await client.close()


@pytest.mark.parametrize("wrong", ["unknown key", "another address", "builder secret"])
async def test_a_wrong_relayer_key_is_refused_and_moves_nothing(
    sim: RunningSim, wrong: str
) -> None:
    owner, wallet, market = wallet_holding(sim, "POLY_PROXY", "plain")
    token = market.token_ids[0]
    held, cash = share_units(sim, wallet, token), pusd_units(sim, wallet)
    key: ApiKey
    if wrong == "unknown key":
        key = RelayerApiKey(key="00000000-0000-4000-a000-000000000000", address=owner.address)
    elif wrong == "another address":
        other = Account.create().address
        key = RelayerApiKey(key=sim.admin.relayer_key(other)["key"], address=other)
    else:
        made = sim.admin.relayer_key()
        key = BuilderApiKey(key=made["key"], secret="c2VjcmV0c2VjcmV0", passphrase="x")
    client = await client_for(sim, owner, wallet, key)
    try:
        with pytest.raises(RequestRejectedError) as refused:
            await client.redeem_positions(condition_id=market.condition_id)
        assert refused.value.status == 401
    finally:
        await client.close()
    assert (pusd_units(sim, wallet), share_units(sim, wallet, token)) == (cash, held)
    assert sim.exchange.relayer.nonce(wallet) == 0


async def test_without_a_key_nothing_is_relayed(sim: RunningSim) -> None:
    owner, wallet, market = wallet_holding(sim, "POLY_PROXY", "plain")
    token = market.token_ids[0]
    held, cash = share_units(sim, wallet, token), pusd_units(sim, wallet)
    client = await client_for(sim, owner, wallet, None)
    try:
        with pytest.raises(UserInputError, match="API Key"):  # the SDK refuses to try
            await client.redeem_positions(condition_id=market.condition_id)
    finally:
        await client.close()
    # A submission without the relayer's headers is refused by the relayer itself.
    envelope = {"type": "PROXY", "from": owner.address, "to": PROXY_FACTORY, "nonce": "0"}
    async with httpx.AsyncClient() as http:
        reply = await http.post(f"{sim.base_urls['relayer']}/submit", json=envelope)
    assert reply.status_code == 401 and "API key" in reply.json()["error"]
    assert (pusd_units(sim, wallet), share_units(sim, wallet, token)) == (cash, held)


def test_nonces_are_per_wallet_and_the_relayer_reports_them(sim: RunningSim) -> None:
    owner, wallet, _ = wallet_holding(sim, "GNOSIS_SAFE", "plain")
    base = sim.base_urls["relayer"]
    safe = httpx.get(
        f"{base}/v1/account/transactions/params",
        params={"address": owner.address, "type": "SAFE"},
        timeout=10,
    ).json()
    assert safe == {"address": wallet, "nonce": "0"}
    proxy = httpx.get(
        f"{base}/relay-payload", params={"address": owner.address, "type": "PROXY"}, timeout=10
    )
    assert proxy.status_code == 400 and "no POLY_PROXY wallet" in proxy.json()["error"]
    missing = httpx.get(f"{base}/v1/account/transactions/nope", timeout=10)
    assert missing.status_code == 404
    with pytest.raises(AdminError):
        sim.admin.relayer_key("not an address")

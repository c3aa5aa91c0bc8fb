"""Wallet transactions on the local chain: the official SDK redeems through JSON-RPC exactly
as it would on Polygon (v1 adapter, neg-risk adapter, V2 Router), every claim pays once,
and the chain refuses what a node or a contract would refuse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from polymarket import AsyncSecureClient

from polytail.sim.chain import PAYOUT_REDEMPTION, TRANSFER, TRANSFER_SINGLE, topic_address
from polytail.sim.contracts import (
    BALANCE_OF_1155,
    COLLATERAL_ADAPTER,
    NEG_RISK_COLLATERAL_ADAPTER,
    REDEEM_POSITIONS,
    ROUTER,
    ROUTER_REDEEM,
)
from polytail.sim.server import RunningSim, sdk_environment
from polytail.sim.signing import CTF, POSITION_MANAGER, PUSD
from tests.support.sim import (
    exchange_market,
    pusd_units,
    redeem_again_pays_nothing,
    redemption_sim,
    share_units,
)


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with redemption_sim("redemption", seed=21) as running:
        yield running


def rpc(sim: RunningSim, method: str, *params: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    reply: dict[str, Any] = httpx.post(sim.base_urls["rpc"], json=body, timeout=10).json()
    return reply


def bought(sim: RunningSim, slug: str, amount: str = "20") -> tuple[Any, Any]:
    """A funded wallet that bought outcome 0 of `slug`, and the market, now resolved to it."""
    account = Account.create()
    sim.admin.fund(account.address, pusd="100")
    market = exchange_market(sim, slug)
    sim.admin.trade(account.address, market.token_ids[0], "BUY", shares=amount, price="0.7")
    if market.payouts is None:
        sim.admin.resolve(market.condition_id, winner=0)
    return account, market


def signed(
    account: Any, to: str, data: bytes, *, nonce: int, chain_id: int = 137, gwei: int = 30
) -> str:
    tx = {
        "to": to,
        "value": 0,
        "data": "0x" + data.hex(),
        "gas": 200_000,
        "gasPrice": gwei * 10**9,
        "nonce": nonce,
        "chainId": chain_id,
    }
    return "0x" + bytes(account.sign_transaction(tx).raw_transaction).hex()


def ctf_redeem(condition_id: str) -> bytes:
    return REDEEM_POSITIONS + abi_encode(
        ["address", "bytes32", "bytes32", "uint256[]"],
        [PUSD, b"\x00" * 32, bytes.fromhex(condition_id[2:]), [1, 2]],
    )


async def client_for(sim: RunningSim, account: Any) -> AsyncSecureClient:
    return await AsyncSecureClient.create(
        private_key=account.key.hex(),
        wallet=account.address,
        environment=sdk_environment(sim.base_urls),
    )


@pytest.mark.parametrize("slug", ["plain", "negrisk", "protocol-v2"])
async def test_the_sdk_redeems_a_won_claim_once_through_json_rpc(
    sim: RunningSim, slug: str
) -> None:
    account, market = bought(sim, slug)
    wallet, token = account.address, market.token_ids[0]
    held, cash = share_units(sim, wallet, token), pusd_units(sim, wallet)
    assert held > 0
    client = await client_for(sim, account)
    try:
        if market.version == "v2":
            handle = await client.redeem_positions(position_id=token)
        else:
            handle = await client.redeem_positions(condition_id=market.condition_id)
        outcome = await handle.wait()
        assert pusd_units(sim, wallet) == cash + held  # $1 a winning share
        assert share_units(sim, wallet, token) == 0

        receipt = rpc(sim, "eth_getTransactionReceipt", outcome.transaction_hash)["result"]
        assert receipt["status"] == "0x1" and receipt["from"] == wallet.lower()
        contract = (
            ROUTER
            if market.version == "v2"
            else (NEG_RISK_COLLATERAL_ADAPTER if market.neg_risk else COLLATERAL_ADAPTER)
        )
        assert receipt["to"] == contract.lower()
        by_topic = {log["topics"][0]: log for log in receipt["logs"]}
        burn = by_topic[TRANSFER_SINGLE]
        assert burn["topics"][2] == topic_address(wallet)  # from the wallet
        assert burn["topics"][3] == topic_address("0x" + "00" * 20)  # to nobody: burned
        assert abi_decode(["uint256", "uint256"], bytes.fromhex(burn["data"][2:])) == (
            int(token),
            held,
        )
        paid = by_topic[TRANSFER]
        assert paid["address"] == PUSD.lower() and paid["topics"][2] == topic_address(wallet)
        assert int(paid["data"], 16) == held
        assert (PAYOUT_REDEMPTION in by_topic) == (market.version == "v1")

        async with httpx.AsyncClient() as http:
            found = await http.get(
                f"{sim.base_urls['data']}/activity", params={"user": wallet, "type": "REDEEM"}
            )
        rows = found.json()
        assert [(r["type"], r["transactionHash"]) for r in rows] == [
            ("REDEEM", outcome.transaction_hash)
        ]
        assert rows[0]["usdcSize"] * 1_000_000 == held

        await redeem_again_pays_nothing(sim, client, market, token, wallet)
        assert pusd_units(sim, wallet) == cash + held
    finally:
        await client.close()
    assert sim.admin.ledger()["conserved"]


def test_a_transaction_redeems_only_the_senders_own_shares(sim: RunningSim) -> None:
    owner, market = bought(sim, "plain")
    thief = Account.create()
    sim.admin.fund(thief.address, pusd="1")
    held = share_units(sim, owner.address, market.token_ids[0])
    raw = signed(thief, COLLATERAL_ADAPTER, ctf_redeem(market.condition_id), nonce=0)
    assert "result" in rpc(sim, "eth_sendRawTransaction", raw)
    assert pusd_units(sim, thief.address) == 1_000_000  # the thief held nothing: paid 0
    assert share_units(sim, owner.address, market.token_ids[0]) == held


def test_a_node_refuses_a_replayed_nonce_and_a_foreign_chain(sim: RunningSim) -> None:
    account, market = bought(sim, "plain")
    cash = pusd_units(sim, account.address)
    data = ctf_redeem(market.condition_id)
    foreign = rpc(
        sim,
        "eth_sendRawTransaction",
        signed(account, COLLATERAL_ADAPTER, data, nonce=0, chain_id=1),
    )
    assert "invalid chain id" in foreign["error"]["message"]
    assert pusd_units(sim, account.address) == cash

    first = rpc(sim, "eth_sendRawTransaction", signed(account, COLLATERAL_ADAPTER, data, nonce=0))
    assert first["result"].startswith("0x")
    paid = pusd_units(sim, account.address) - cash
    assert paid > 0
    replay = rpc(sim, "eth_sendRawTransaction", signed(account, COLLATERAL_ADAPTER, data, nonce=0))
    assert replay["error"]["message"] == "already known"
    reused = signed(account, COLLATERAL_ADAPTER, data, nonce=0, gwei=31)
    assert "nonce too low" in rpc(sim, "eth_sendRawTransaction", reused)["error"]["message"]
    assert rpc(sim, "eth_getTransactionCount", account.address, "pending")["result"] == "0x1"
    assert pusd_units(sim, account.address) == cash + paid


def test_calls_a_contract_would_refuse_revert(sim: RunningSim) -> None:
    account, plain = bought(sim, "plain")
    negrisk = exchange_market(sim, "negrisk")
    v2 = exchange_market(sim, "protocol-v2")

    def estimate(to: str, data: bytes) -> dict[str, Any]:
        spec = {"from": account.address, "to": to, "data": "0x" + data.hex(), "value": "0x0"}
        return rpc(sim, "eth_estimateGas", spec)

    wrong_adapter = estimate(NEG_RISK_COLLATERAL_ADAPTER, ctf_redeem(plain.condition_id))
    assert wrong_adapter["error"]["code"] == 3
    assert "execution reverted" in wrong_adapter["error"]["message"]
    unresolved = estimate(NEG_RISK_COLLATERAL_ADAPTER, ctf_redeem(negrisk.condition_id))
    assert "not received yet" in unresolved["error"]["message"]
    too_much = ROUTER_REDEEM + abi_encode(
        ["bytes31", "uint256", "uint256"], [bytes.fromhex(v2.condition_id[2:]), 0, 10**12]
    )
    assert "exceeds balance" in estimate(ROUTER, too_much)["error"]["message"]
    assert "unsupported call" in estimate(PUSD, b"\xde\xad\xbe\xef")["error"]["message"]

    # Sent anyway, a reverting call is mined as failed and uses its nonce.
    nonce = int(rpc(sim, "eth_getTransactionCount", account.address)["result"], 16)
    raw = signed(account, NEG_RISK_COLLATERAL_ADAPTER, ctf_redeem(plain.condition_id), nonce=nonce)
    tx_hash = rpc(sim, "eth_sendRawTransaction", raw)["result"]
    assert rpc(sim, "eth_getTransactionReceipt", tx_hash)["result"]["status"] == "0x0"
    assert int(rpc(sim, "eth_getTransactionCount", account.address)["result"], 16) == nonce + 1


def test_balances_answer_eth_call_as_the_sdk_reads_them(sim: RunningSim) -> None:
    account, market = bought(sim, "protocol-v2", amount="7")

    token = int(market.token_ids[0])
    data = BALANCE_OF_1155 + abi_encode(["address", "uint256"], [account.address, token])
    spec = {"to": POSITION_MANAGER, "data": "0x" + data.hex()}
    held = share_units(sim, account.address, market.token_ids[0])
    assert int(rpc(sim, "eth_call", spec, "latest")["result"], 16) == held == 7_000_000
    other = {"to": CTF, "data": spec["data"]}  # a V2 position is not a CTF token
    assert int(rpc(sim, "eth_call", other, "latest")["result"], 16) == 0

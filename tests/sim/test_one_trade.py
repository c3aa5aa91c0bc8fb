"""One trade is told the same way by the chain, the Data API (v1, v2), RTDS and positions."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from eth_abi.abi import decode as abi_decode

from polytail.sim.chain import ORDER_FILLED, ORDERS_MATCHED, topic_address
from polytail.sim.scenarios import load
from polytail.sim.server import RunningSim, start_sim

from .conftest import market


def rpc(sim: RunningSim, method: str, *params: object) -> object:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    return httpx.post(sim.base_urls["rpc"], json=body).json()["result"]


def get(sim: RunningSim, service: str, path: str, **params: object) -> object:
    response = httpx.get(sim.base_urls[service] + path, params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.json()


async def rtds_frames(sim: RunningSim, action: object, count: int) -> list[dict[str, object]]:
    async with websockets.connect(sim.base_urls["rtds_ws"]) as socket:
        await socket.send(
            json.dumps(
                {"action": "subscribe", "subscriptions": [{"topic": "activity", "type": "trades"}]}
            )
        )
        await asyncio.sleep(0.05)
        await asyncio.to_thread(action)  # type: ignore[arg-type]
        frames = []
        async with asyncio.timeout(5):
            while len(frames) < count:
                frames.append(json.loads(await socket.recv()))
        return frames


@pytest.mark.slow
async def test_a_scripted_leader_buy_appears_identically_everywhere(sim: RunningSim) -> None:
    leader = "0x1111111111111111111111111111111111111111"
    sim.admin.fund(leader, pusd="1000", name="leader-one")
    info = market(sim, "btc-above-150k-dec-31")
    token = info["token_ids"][0]
    start_block = int(rpc(sim, "eth_blockNumber"), 16)  # type: ignore[arg-type]
    done: dict[str, object] = {}
    frames = await rtds_frames(
        sim,
        lambda: done.update(sim.admin.trade(leader, token, "BUY", shares="30", price="0.45")),
        2,
    )
    tx = done["transaction_hash"]

    rows = get(sim, "data", "/activity", user=leader)
    assert isinstance(rows, list) and len(rows) == 1
    row = rows[0]
    assert (row["type"], row["side"], row["size"], row["transactionHash"], row["asset"]) == (
        "TRADE",
        "BUY",
        30,
        tx,
        token,
    )
    assert row["name"] == "leader-one"

    leader_frames = [f["payload"] for f in frames if f["payload"]["proxyWallet"] == leader]
    assert len(leader_frames) == 1
    assert {k: leader_frames[0][k] for k in ("size", "price", "transactionHash", "side")} == {
        k: row[k] for k in ("size", "price", "transactionHash", "side")
    }

    logs = rpc(
        sim,
        "eth_getLogs",
        {
            "fromBlock": hex(start_block),
            "toBlock": "latest",
            "topics": [ORDER_FILLED, None, topic_address(leader)],
        },
    )
    assert isinstance(logs, list) and len(logs) == 1
    log = logs[0]
    assert log["transactionHash"] == tx
    side, token_id, paid, received, fee, _, _ = abi_decode(
        ["uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32"],
        bytes.fromhex(log["data"][2:]),
    )
    assert (side, str(token_id), received) == (0, token, 30_000_000)
    assert paid / received == row["price"]
    assert fee > 0  # the market charges taker fees
    matched = rpc(
        sim,
        "eth_getLogs",
        {"fromBlock": hex(start_block), "toBlock": "latest", "topics": [ORDERS_MATCHED]},
    )
    assert [m["transactionHash"] for m in matched] == [tx]  # type: ignore[union-attr]

    taker_view = get(sim, "data", "/trades", user=leader)
    house_view = get(sim, "data", "/trades", user=sim.admin.state()["house"])
    house_all = get(sim, "data", "/trades", user=sim.admin.state()["house"], takerOnly="false")
    assert len(taker_view) == 1 and house_view == []  # type: ignore[arg-type]
    assert any(t["transactionHash"] == tx for t in house_all)  # type: ignore[union-attr]

    v2 = get(sim, "data", "/v2/activity", user=leader)
    assert v2["data"][0]["transaction_hash"] == tx  # type: ignore[index]
    assert v2["pagination"] == {
        "limit": 100,
        "offset": 0,
        "has_more": False,  # type: ignore[index]
        "next_cursor": None,
    }

    positions = get(sim, "data", "/positions", user=leader)
    assert [(p["asset"], p["size"]) for p in positions] == [(token, 30)]  # type: ignore[union-attr]


def test_a_burst_of_200_fills_shares_one_transaction_with_distinct_log_indexes(
    sim: RunningSim,
) -> None:
    whale = "0x2222222222222222222222222222222222222222"
    token = market(sim, "fed-cuts-in-december")["token_ids"][1]
    burst = sim.admin.burst(whale, token, "BUY", count=200, shares_each="5", price="0.40")
    tx = burst["transaction_hash"]
    assert {fill["transaction_hash"] for fill in burst["fills"]} == {tx}
    rows = get(sim, "data", "/activity", user=whale, limit=500)
    assert len(rows) == 200 and {r["transactionHash"] for r in rows} == {tx}  # type: ignore
    receipt = rpc(sim, "eth_getTransactionReceipt", tx)
    mine = [
        log
        for log in receipt["logs"]
        if log["topics"][0] == ORDER_FILLED  # type: ignore
        and log["topics"][2] == topic_address(whale)
    ]
    assert len(mine) == 200
    indexes = [int(log["logIndex"], 16) for log in receipt["logs"]]  # type: ignore[index]
    assert len(set(indexes)) == len(indexes)
    page = get(sim, "data", "/v2/activity", user=whale, limit=150)
    rest = get(
        sim, "data", "/v2/activity", user=whale, limit=150, cursor=page["pagination"]["next_cursor"]
    )  # type: ignore[index]
    assert len(page["data"]) + len(rest["data"]) == 200  # type: ignore[index]
    assert rest["pagination"]["has_more"] is False  # type: ignore[index]


def test_resolution_and_redemption_show_up_as_redeem_activity(sim: RunningSim) -> None:
    holder = "0x3333333333333333333333333333333333333333"
    info = market(sim, "best-picture-other")
    sim.admin.trade(holder, info["token_ids"][0], "BUY", shares="20", price="0.30")
    sim.admin.resolve(info["condition_id"], winner=0)
    assert sim.admin.redeem(holder, info["condition_id"]) == {"paid": "20"}
    assert sim.admin.redeem(holder, info["condition_id"]) == {"paid": "0"}
    rows = get(sim, "data", "/activity", user=holder)
    redeem = next(r for r in rows if r["type"] == "REDEEM")  # type: ignore[union-attr]
    assert (redeem["outcomeIndex"], redeem["asset"], redeem["side"], redeem["usdcSize"]) == (
        999,
        "",
        "",
        20,
    )
    bought = next(r for r in rows if r["type"] == "TRADE")  # type: ignore[union-attr]
    closed = get(sim, "data", "/closed-positions", user=holder)
    assert closed[0]["realizedPnl"] == pytest.approx(20 - bought["usdcSize"])  # type: ignore
    assert sim.admin.ledger()["conserved"]


def test_chain_blocks_do_not_change_after_they_were_observed(sim: RunningSim) -> None:
    trader = "0x4444444444444444444444444444444444444444"
    token = market(sim, "mayor-runoff-winner-a")["token_ids"][0]
    sim.admin.trade(trader, token, "BUY", shares="10", price="0.60")
    head = int(rpc(sim, "eth_blockNumber"), 16)  # type: ignore[arg-type]
    before = rpc(sim, "eth_getLogs", {"fromBlock": hex(head), "toBlock": hex(head)})
    sim.admin.trade(trader, token, "BUY", shares="10", price="0.60")
    after = rpc(sim, "eth_getLogs", {"fromBlock": hex(head), "toBlock": hex(head)})
    assert before == after
    assert int(rpc(sim, "eth_blockNumber"), 16) == head + 1  # type: ignore[arg-type]


def test_a_trade_s_logs_carry_the_time_of_its_data_api_rows(sim: RunningSim) -> None:
    wallet = "0x1212121212121212121212121212121212121212"
    token = market(sim, "fed-cuts-in-december")["token_ids"][0]
    sim.admin.trade(wallet, token, "BUY", shares="10", price="0.70")
    sim.admin.advance(1)  # a second later, while the previous block may still be open
    second = sim.admin.trade(wallet, token, "BUY", shares="10", price="0.70")
    rows = get(sim, "data", "/activity", user=wallet)
    assert isinstance(rows, list)
    (row,) = [r for r in rows if r["transactionHash"] == second["transaction_hash"]]
    receipt = rpc(sim, "eth_getTransactionReceipt", second["transaction_hash"])
    block = rpc(sim, "eth_getBlockByNumber", receipt["blockNumber"], False)  # type: ignore[index]
    assert int(block["timestamp"], 16) == row["timestamp"]  # type: ignore[index]


def test_taker_rows_per_match_list_each_match_while_the_chain_sums_the_taking_order() -> None:
    scenario = load("synthetic", seed=5)
    scenario.taker_rows = "per_match"
    with start_sim(scenario) as own:
        info = market(own, "best-picture-other")
        token, condition = info["token_ids"][0], info["condition_id"]
        makers = ["0x" + f"{n}c" * 20 for n in (1, 2)]
        for maker in makers:
            own.admin.fund(maker, pusd="1", shares={condition: "20"})
            own.admin.order(maker, token, "SELL", shares="20", price="0.22")  # inside the spread
        taker = "0x" + "3c" * 20
        done = own.admin.trade(taker, token, "BUY", shares="30", price="0.22")
        rows = get(own, "data", "/activity", user=taker)
        assert isinstance(rows, list)
        assert sorted(r["size"] for r in rows if r["type"] == "TRADE") == [10, 20]
        receipt = rpc(own, "eth_getTransactionReceipt", done["transaction_hash"])
        fills = [log for log in receipt["logs"] if log["topics"][0] == ORDER_FILLED]  # type: ignore[index]
        taker_events = [log for log in fills if log["topics"][2] == topic_address(taker)]
        (event,) = taker_events  # one event for the taking order: 30 shares
        assert (
            abi_decode(
                ["uint8", "uint256", "uint256", "uint256"], bytes.fromhex(event["data"][2:])[:128]
            )[3]
            == 30_000_000
        )

"""Local exchange throughput on loopback.

1. Signed orders accepted per second: a batch of V2 orders is signed in advance with
   eth-account (so signing is not measured), then POSTed with L2 HMAC headers from several
   concurrent HTTP clients; every order is verified (EIP-712 recovery), matched and
   recorded. Non-crossing limit orders, so each one rests.
2. RTDS frames fanned out: 10 websocket clients subscribe to `activity/trades`; a burst of
   scripted fills is published and we count frames received by all clients per second.

The clients run in a process of their own, as they would against the real venue. In one
process with the server thread they would share its interpreter lock, and the figure
would measure lock hand-offs (it flipped between about 280 and 540 orders/s from run to
run) rather than the exchange.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from eth_account import Account

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, latency_figures, max_rss_mib, record
from polytail.sim.server import AdminClient, start_sim

ORDERS = 2_000
CLIENTS = 8
RTDS_CLIENTS = 10
RTDS_FILLS = 400


def sign_orders(account: object, token: str, exchange: str, count: int) -> list[dict[str, object]]:
    signer = account  # LocalAccount
    orders = []
    for index in range(count):
        message = {
            "salt": index + 1,
            "maker": signer.address,
            "signer": signer.address,  # type: ignore[attr-defined]
            "tokenId": int(token),
            "makerAmount": 1_000_000,
            "takerAmount": 10_000_000,
            "side": 0,
            "signatureType": 0,
            "timestamp": 1_700_000_000_000 + index,
            "metadata": b"\x00" * 32,
            "builder": b"\x00" * 32,
        }
        typed = {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "Order": [
                    {"name": n, "type": t}
                    for n, t in (
                        ("salt", "uint256"),
                        ("maker", "address"),
                        ("signer", "address"),
                        ("tokenId", "uint256"),
                        ("makerAmount", "uint256"),
                        ("takerAmount", "uint256"),
                        ("side", "uint8"),
                        ("signatureType", "uint8"),
                        ("timestamp", "uint256"),
                        ("metadata", "bytes32"),
                        ("builder", "bytes32"),
                    )
                ],
            },
            "primaryType": "Order",
            "domain": {
                "name": "Polymarket CTF Exchange",
                "version": "2",
                "chainId": 137,
                "verifyingContract": exchange,
            },
            "message": message,
        }
        signature = signer.sign_typed_data(full_message=typed).signature.hex()  # type: ignore[attr-defined]
        orders.append(
            {
                "salt": index + 1,
                "maker": signer.address,
                "signer": signer.address,  # type: ignore[attr-defined]
                "tokenId": token,
                "makerAmount": "1000000",
                "takerAmount": "10000000",
                "side": "BUY",
                "expiration": "0",
                "signatureType": 0,
                "timestamp": str(1_700_000_000_000 + index),
                "metadata": "0x" + "00" * 32,
                "builder": "0x" + "00" * 32,
                "signature": "0x" + signature.removeprefix("0x"),
            }
        )
    return orders


def l2_headers(creds: dict[str, str], address: str, body: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    key = base64.urlsafe_b64decode(creds["secret"])
    digest = hmac.new(key, f"{timestamp}POST/order{body}".encode(), hashlib.sha256).digest()
    return {
        "POLY_ADDRESS": address,
        "POLY_API_KEY": creds["apiKey"],
        "POLY_PASSPHRASE": creds["passphrase"],
        "POLY_TIMESTAMP": timestamp,
        "POLY_SIGNATURE": base64.urlsafe_b64encode(digest).decode(),
        "Content-Type": "application/json",
    }


async def post_all(
    base: str, creds: dict[str, str], address: str, orders: list[dict[str, object]]
) -> tuple[int, float, list[float]]:
    bodies = [
        json.dumps(
            {"order": o, "owner": creds["apiKey"], "orderType": "GTC"}, separators=(",", ":")
        )
        for o in orders
    ]
    latencies: list[float] = []
    accepted = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker() -> None:
        nonlocal accepted
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter_ns()
                reply = await client.post(
                    "/order", content=body, headers=l2_headers(creds, address, body)
                )
                latencies.append(time.perf_counter_ns() - started)
                if reply.status_code == 200 and reply.json().get("success"):
                    accepted += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CLIENTS)))
    return accepted, time.perf_counter() - started, latencies


async def rtds_fanout(urls: dict[str, str], admin_token: str, token: str) -> tuple[int, float]:
    url = urls["rtds_ws"]
    admin = AdminClient(urls["admin"], admin_token)
    sockets = [await websockets.connect(url, max_queue=None) for _ in range(RTDS_CLIENTS)]
    for socket in sockets:
        await socket.send(
            json.dumps(
                {"action": "subscribe", "subscriptions": [{"topic": "activity", "type": "trades"}]}
            )
        )
    await asyncio.sleep(0.2)
    expected_each = RTDS_FILLS * 2  # a maker row and a taker row per fill

    async def drain(socket: websockets.ClientConnection) -> int:
        received = 0
        while received < expected_each:
            await socket.recv()
            received += 1
        return received

    started = time.perf_counter()
    drains = [asyncio.create_task(drain(s)) for s in sockets]
    await asyncio.to_thread(
        admin.burst,
        "0x" + "77" * 20,
        token,
        "BUY",
        count=RTDS_FILLS,
        shares_each="5",
        price="0.60",
    )
    counts = await asyncio.gather(*drains)
    elapsed = time.perf_counter() - started
    for socket in sockets:
        await socket.close()
    admin.close()
    return sum(counts), elapsed


def post_all_sync(
    base: str, creds: dict[str, str], address: str, orders: list[dict[str, object]]
) -> tuple[int, float, list[float]]:
    return asyncio.run(post_all(base, creds, address, orders))


def rtds_fanout_sync(urls: dict[str, str], admin_token: str, token: str) -> tuple[int, float]:
    return asyncio.run(rtds_fanout(urls, admin_token, token))


def in_client_process(function: Any, *args: Any) -> Any:
    """Run `function(*args)` in a fresh process: the clients get an interpreter of their own."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def main() -> None:
    account = Account.create()
    with start_sim("synthetic", seed=11) as sim:
        state = sim.admin.state()
        market = next(m for m in state["markets"] if m["slug"] == "btc-above-150k-dec-31")
        token = market["token_ids"][0]
        sim.admin.fund(account.address, pusd=str(ORDERS * 2))
        creds = sim.exchange.api_key_for(account.address, 0, create=True)
        assert creds is not None
        creds_json = {"apiKey": creds.key, "secret": creds.secret, "passphrase": creds.passphrase}
        from polytail.sim.signing import EXCHANGE_V2  # noqa: PLC0415

        signing_started = time.perf_counter()
        orders = sign_orders(account, token, EXCHANGE_V2, ORDERS)
        signing = time.perf_counter() - signing_started
        accepted, elapsed, latencies = in_client_process(
            post_all_sync, sim.base_urls["clob"], creds_json, account.address, orders
        )
        assert accepted == ORDERS, f"only {accepted} of {ORDERS} orders were accepted"
        frames, fan_elapsed = in_client_process(
            rtds_fanout_sync, sim.base_urls, sim.admin_token, market["token_ids"][1]
        )
        conserved = sim.admin.ledger()["conserved"]
    record(
        "sim",
        [
            Figure(
                "signed_orders_accepted_per_s",
                round(accepted / elapsed, 1),
                "orders/s",
                f"{ORDERS} pre-signed orders, {CLIENTS} concurrent HTTP clients",
            ),
            *latency_figures("post_order", latencies, "ms"),
            Figure("presign_per_s", round(ORDERS / signing, 1), "orders/s", "client-side signing"),
            Figure(
                "rtds_frames_fanned_out_per_s",
                round(frames / fan_elapsed, 1),
                "frames/s",
                f"{RTDS_CLIENTS} websocket clients, {RTDS_FILLS} fills in one transaction",
            ),
            Figure("rtds_frames_received", frames, "frames"),
            Figure("ledger_conserved", int(bool(conserved)), "bool"),
            Figure("max_rss", round(max_rss_mib(), 1), "MiB"),
        ],
    )


if __name__ == "__main__":
    main()

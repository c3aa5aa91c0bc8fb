"""Polygon JSON-RPC (blocks, logs, receipts, `eth_call`, raw transactions), geoblock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polytail.sim.exchange import Exchange
from polytail.sim.http import json_body, reply
from polytail.sim.transactions import GAS_PRICE, RpcError


def rpc_routes(exchange: Exchange) -> list[Route]:
    chain = exchange.chain
    txs = exchange.transactions

    def block_number(tag: object) -> int:
        if tag in (None, "latest", "safe", "finalized", "pending"):
            return chain.observe_head()
        if tag == "earliest":
            return chain.blocks[0].number
        if isinstance(tag, str) and tag.startswith("0x"):
            return int(tag, 16)
        raise ValueError(f"invalid block tag {tag!r}")

    def get_logs(params: list[Any]) -> list[dict[str, Any]]:
        spec = params[0] if params else {}
        if spec.get("blockHash"):
            wanted = str(spec["blockHash"]).lower()
            numbers = [b.number for b in chain.blocks if b.hash == wanted]
            first = last = numbers[0] if numbers else -1
        else:
            first = block_number(spec.get("fromBlock", "latest"))
            last = block_number(spec.get("toBlock", "latest"))
        address = spec.get("address")
        addresses = None
        if address:
            addresses = {a.lower() for a in (address if isinstance(address, list) else [address])}
        topics: list[set[str] | None] = []
        for entry in spec.get("topics") or []:
            if entry is None:
                topics.append(None)
            else:
                values = entry if isinstance(entry, list) else [entry]
                topics.append({str(v).lower() for v in values})
        logs = chain.get_logs(from_block=first, to_block=last, addresses=addresses, topics=topics)
        return [log.rpc() for log in logs]

    def block(params: list[Any]) -> dict[str, Any] | None:
        found = chain.block(block_number(params[0] if params else "latest"))
        if found is None:
            return None
        return {
            "number": hex(found.number),
            "hash": found.hash,
            "timestamp": hex(found.timestamp),
            "transactions": list(found.transactions),
            "parentHash": chain.blocks[max(0, found.number - chain.blocks[0].number - 1)].hash,
        }

    def receipt(params: list[Any]) -> dict[str, Any] | None:
        tx_hash = str(params[0]).lower()
        found = chain.receipts.get(tx_hash)
        if found is None:
            return None
        logs = [log.rpc() for log in found.logs if log.tx_hash == tx_hash]
        body: dict[str, Any] = {
            "transactionHash": tx_hash,
            "transactionIndex": hex(found.transactions.index(tx_hash)),
            "blockNumber": hex(found.number),
            "blockHash": found.hash,
            "status": "0x1",
            "logs": logs,
        }
        sent = chain.transactions.get(tx_hash)
        if sent is not None:  # a wallet's own transaction (trades are the operator's)
            body.update(
                {
                    "from": sent.sender.lower(),
                    "to": sent.to.lower(),
                    "status": hex(sent.status),
                    "gasUsed": hex(sent.gas_used),
                    "effectiveGasPrice": hex(GAS_PRICE),
                    "contractAddress": None,
                    "type": "0x0",
                }
            )
        return body

    methods: dict[str, Callable[[list[Any]], Any]] = {
        "eth_chainId": lambda _: hex(137),
        "net_version": lambda _: "137",
        "eth_blockNumber": lambda _: hex(chain.observe_head()),
        "eth_getLogs": get_logs,
        "eth_getBlockByNumber": block,
        "eth_getTransactionReceipt": receipt,
        "eth_getTransactionCount": lambda p: hex(txs.nonce(str(p[0]))),
        "eth_gasPrice": lambda _: hex(GAS_PRICE),
        "eth_estimateGas": lambda p: hex(txs.estimate(p[0])),
        "eth_call": lambda p: txs.call(p[0]),
        "eth_sendRawTransaction": lambda p: txs.send_raw(str(p[0])),
    }

    def call(item: Any) -> dict[str, Any]:
        ident = item.get("id") if isinstance(item, dict) else None
        method = item.get("method") if isinstance(item, dict) else None
        handler = methods.get(method)  # type: ignore[arg-type]
        if handler is None:
            return {
                "jsonrpc": "2.0",
                "id": ident,
                "error": {"code": -32601, "message": f"method {method!r} not supported"},
            }
        try:
            return {"jsonrpc": "2.0", "id": ident, "result": handler(item.get("params") or [])}
        except RpcError as error:
            return {"jsonrpc": "2.0", "id": ident, "error": error.body()}
        except (KeyError, ValueError, IndexError, TypeError, AttributeError) as error:
            return {
                "jsonrpc": "2.0",
                "id": ident,
                "error": {"code": -32602, "message": f"invalid params: {error}"},
            }

    async def rpc(request: Request) -> Response:
        _, body = await json_body(request)
        if isinstance(body, list):
            return reply([call(item) for item in body])
        return reply(call(body))

    return [Route("/rpc", rpc, methods=["POST"]), Route("/rpc/", rpc, methods=["POST"])]


def geoblock_routes(exchange: Exchange) -> list[Route]:
    async def geoblock(request: Request) -> Response:
        host = request.client.host if request.client else "127.0.0.1"
        return reply({**exchange.geoblock, "ip": host})

    return [Route("/geoblock", geoblock), Route("/geoblock/", geoblock)]

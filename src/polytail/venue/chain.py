"""Polygon JSON-RPC: block number, `OrderFilled` logs of watched wallets, block times.

A watched wallet's fills are the exchange `OrderFilled` events whose `maker` (topic 2)
is that wallet (see `normalize.logs`). One `eth_getLogs` call asks for both event
versions from every configured exchange for every watched wallet at once; ranges wider
than `max_block_range` are split. Logs carry no timestamp on most nodes, so the blocks'
times are fetched once per block (`eth_getBlockByNumber`) and cached.

`subscribe_logs` follows the same filter over a websocket (`eth_subscribe`), where the
endpoint offers one (`venue.rpc_ws_url`).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any, Final

import orjson

from polytail.domain.ids import Address
from polytail.venue.errors import BadRequest, UnexpectedResponse
from polytail.venue.http import HttpCore
from polytail.venue.normalize.common import Normalized
from polytail.venue.normalize.logs import TOPICS, logs_batch
from polytail.venue.ws import Frame, Reconnected, ReconnectingSocket

FAMILY: Final = "rpc"
_BLOCK_CACHE: Final = 4096


def wallet_topic(wallet: Address) -> str:
    return "0x" + "0" * 24 + wallet[2:]


class ChainClient:
    def __init__(
        self,
        http: HttpCore,
        exchanges: Sequence[Address],
        *,
        max_block_range: int = 500,
    ) -> None:
        self.http = http
        self.exchanges = list(exchanges)
        self.max_block_range = max_block_range
        self._ids = itertools.count(1)
        self._block_times: OrderedDict[int, int] = OrderedDict()

    async def rpc(self, method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        reply = await self.http.post_json("", body, family=FAMILY)
        if not isinstance(reply, dict):
            raise UnexpectedResponse(f"rpc {method}: reply is not an object", family=FAMILY)
        if reply.get("error"):
            error = reply["error"]
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise BadRequest(f"rpc {method}: {message}", family=FAMILY, detail=str(message))
        return reply.get("result")

    async def block_number(self) -> int:
        result = await self.rpc("eth_blockNumber", [])
        return _quantity(result, "eth_blockNumber")

    def log_filter(self, wallets: Collection[Address]) -> dict[str, Any]:
        return {
            "address": self.exchanges,
            "topics": [list(TOPICS), None, sorted(wallet_topic(w) for w in wallets)],
        }

    async def get_logs(
        self, wallets: Collection[Address], from_block: int, to_block: int
    ) -> list[dict[str, Any]]:
        """Raw OrderFilled logs of `wallets` as makers, in ranges of `max_block_range`."""
        if not wallets or to_block < from_block:
            return []
        logs: list[dict[str, Any]] = []
        base = self.log_filter(wallets)
        start = from_block
        while start <= to_block:
            end = min(to_block, start + self.max_block_range - 1)
            result = await self.rpc(
                "eth_getLogs", [{**base, "fromBlock": hex(start), "toBlock": hex(end)}]
            )
            if not isinstance(result, list):
                raise UnexpectedResponse("rpc eth_getLogs: result is not a list", family=FAMILY)
            logs.extend(result)
            start = end + 1
        return logs

    async def block_times(self, blocks: Collection[int]) -> dict[int, int]:
        """Unix seconds of each block (cached; logs themselves usually have none)."""
        times: dict[int, int] = {}
        for block in sorted(set(blocks)):
            cached = self._block_times.get(block)
            if cached is None:
                header = await self.rpc("eth_getBlockByNumber", [hex(block), False])
                if not isinstance(header, dict):
                    raise UnexpectedResponse(f"rpc: block {block} not found", family=FAMILY)
                cached = _quantity(header.get("timestamp"), "block timestamp")
                self._block_times[block] = cached
                if len(self._block_times) > _BLOCK_CACHE:
                    self._block_times.popitem(last=False)
            times[block] = cached
        return times

    async def fills(
        self,
        wallets: Collection[Address],
        from_block: int,
        to_block: int,
        *,
        received_ns: int = 0,
    ) -> Normalized:
        """The wallets' fills in a block range: one batch (occurrences by log order)."""
        logs = await self.get_logs(wallets, from_block, to_block)
        needed: set[int] = set()
        for log in logs:
            if isinstance(log, dict) and log.get("blockTimestamp") is None:
                try:
                    needed.add(_quantity(log.get("blockNumber"), "blockNumber"))
                except UnexpectedResponse:
                    continue  # the normalizer rejects this log, naming the field
        times = await self.block_times(needed) if needed else {}
        return logs_batch(logs, block_times=times, watched=set(wallets), received_ns=received_ns)

    def subscribe_logs(
        self, socket: ReconnectingSocket, wallets: Collection[Address]
    ) -> AsyncIterator[Frame | Reconnected]:
        """Frames of an `eth_subscribe("logs")` on `socket` (re-subscribed on reconnect).

        Each notification's `params.result` is one log; decode it with
        `normalize.logs.fill_from_log` (occurrence numbering needs whole blocks: the
        poller's `fills` remains the source of truth for repeats inside one block).
        """
        request = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_subscribe",
            "params": ["logs", self.log_filter(wallets)],
        }
        socket.subscribe_frames = lambda: [orjson.dumps(request).decode()]
        return socket.frames()


def _quantity(value: Any, what: str) -> int:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise UnexpectedResponse(f"rpc: {what} is not a hex quantity: {value!r}", family=FAMILY)

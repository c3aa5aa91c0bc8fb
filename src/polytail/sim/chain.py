"""A minimal Polygon: blocks, transactions and the exchange's event logs, for `eth_getLogs`.

A block is sealed the moment anyone observes the chain head, so a block's logs never
change after a client has seen it (later transactions go into the next block), as on a
real chain. Logs are ABI-encoded with eth-abi in the V2 exchange layout of
polymarket-api.md §6.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

ORDER_FILLED = (
    "0x"
    + keccak(
        b"OrderFilled(bytes32,address,address,uint8,uint256,uint256,uint256,uint256,bytes32,bytes32)"
    ).hex()
)
ORDERS_MATCHED = (
    "0x" + keccak(b"OrdersMatched(bytes32,address,uint8,uint256,uint256,uint256)").hex()
)
FEE_CHARGED = "0x" + keccak(b"FeeCharged(address,uint256)").hex()
TRANSFER_SINGLE = "0x" + keccak(b"TransferSingle(address,address,address,uint256,uint256)").hex()
TRANSFER = "0x" + keccak(b"Transfer(address,address,uint256)").hex()
PAYOUT_REDEMPTION = (
    "0x" + keccak(b"PayoutRedemption(address,address,bytes32,bytes32,uint256[],uint256)").hex()
)
ZERO_ADDRESS = "0x" + "00" * 20
GENESIS_BLOCK = 80_000_000


@dataclass
class Log:
    address: str
    topics: list[str]
    data: str
    block_number: int
    tx_hash: str
    tx_index: int
    log_index: int
    block_hash: str

    def rpc(self) -> dict[str, Any]:
        return {
            "address": self.address.lower(),
            "topics": self.topics,
            "data": self.data,
            "blockNumber": hex(self.block_number),
            "blockHash": self.block_hash,
            "transactionHash": self.tx_hash,
            "transactionIndex": hex(self.tx_index),
            "logIndex": hex(self.log_index),
            "removed": False,
        }


@dataclass(frozen=True)
class Transaction:
    """What a receipt tells beyond the block: who sent it, to what, and whether it reverted."""

    sender: str
    to: str
    status: int = 1
    gas_used: int = 0


@dataclass
class Block:
    number: int
    timestamp: int
    hash: str
    sealed: bool = False
    transactions: list[str] = field(default_factory=list)
    logs: list[Log] = field(default_factory=list)


def topic_address(address: str) -> str:
    return "0x" + address.lower().removeprefix("0x").rjust(64, "0")


def topic_word(value: bytes) -> str:
    return "0x" + value.rjust(32, b"\x00").hex()


def order_filled(
    *,
    order_hash: str,
    maker: str,
    taker: str,
    side: int,
    token_id: int,
    maker_amount: int,
    taker_amount: int,
    fee: int,
) -> tuple[list[str], str]:
    data = abi_encode(
        ["uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32"],
        [side, token_id, maker_amount, taker_amount, fee, b"\x00" * 32, b"\x00" * 32],
    )
    topics = [ORDER_FILLED, order_hash, topic_address(maker), topic_address(taker)]
    return topics, "0x" + data.hex()


def orders_matched(
    *, order_hash: str, maker: str, side: int, token_id: int, maker_amount: int, taker_amount: int
) -> tuple[list[str], str]:
    data = abi_encode(
        ["uint8", "uint256", "uint256", "uint256"], [side, token_id, maker_amount, taker_amount]
    )
    return [ORDERS_MATCHED, order_hash, topic_address(maker)], "0x" + data.hex()


def fee_charged(*, receiver: str, amount: int) -> tuple[list[str], str]:
    return [FEE_CHARGED, topic_address(receiver)], "0x" + abi_encode(["uint256"], [amount]).hex()


def transfer_single(
    *, operator: str, sender: str, receiver: str, token_id: int, amount: int
) -> tuple[list[str], str]:
    """ERC-1155 `TransferSingle` (a burn has `receiver` = the zero address)."""
    topics = [
        TRANSFER_SINGLE,
        topic_address(operator),
        topic_address(sender),
        topic_address(receiver),
    ]
    return topics, "0x" + abi_encode(["uint256", "uint256"], [token_id, amount]).hex()


def transfer(*, sender: str, receiver: str, amount: int) -> tuple[list[str], str]:
    """ERC-20 `Transfer` (pUSD)."""
    topics = [TRANSFER, topic_address(sender), topic_address(receiver)]
    return topics, "0x" + abi_encode(["uint256"], [amount]).hex()


def payout_redemption(
    *, redeemer: str, collateral: str, condition_id: str, index_sets: list[int], payout: int
) -> tuple[list[str], str]:
    """ConditionalTokens `PayoutRedemption` (indexed: redeemer, collateral, parent collection)."""
    topics = [
        PAYOUT_REDEMPTION,
        topic_address(redeemer),
        topic_address(collateral),
        "0x" + "00" * 32,
    ]
    data = abi_encode(
        ["bytes32", "uint256[]", "uint256"],
        [bytes.fromhex(condition_id.removeprefix("0x")).rjust(32, b"\x00"), index_sets, payout],
    )
    return topics, "0x" + data.hex()


class Chain:
    def __init__(self, seed: int, start_time: int) -> None:
        self._seed = seed
        self.blocks: list[Block] = [self._new_block(GENESIS_BLOCK, start_time, sealed=True)]
        self.receipts: dict[str, Block] = {}
        self.transactions: dict[str, Transaction] = {}
        self._tx_count = 0

    @property
    def head(self) -> Block:
        return self.blocks[-1]

    def observe_head(self) -> int:
        """The latest block number; from now on that block takes no more transactions."""
        self.head.sealed = True
        return self.head.number

    def next_tx_hash(self) -> str:
        self._tx_count += 1
        return "0x" + keccak(f"{self._seed}|tx|{self._tx_count}".encode()).hex()

    def mine(
        self,
        tx_hash: str,
        contract_logs: list[tuple[str, list[str], str]],
        timestamp: int,
        *,
        transaction: Transaction | None = None,
    ) -> Block:
        """Put one transaction's logs into the open block (opening one if the head is sealed).

        A block holds the transactions of one second only: the Data API reports a trade's
        time as its block's time, so a trade's rows and its logs must carry the same time
        (a block reused for a later second would date its logs before its rows).
        """
        block = self.head
        if block.sealed or timestamp > block.timestamp:
            block = self._new_block(self.head.number + 1, max(timestamp, self.head.timestamp))
            self.blocks.append(block)
        tx_index = len(block.transactions)
        block.transactions.append(tx_hash)
        for address, topics, data in contract_logs:
            block.logs.append(
                Log(
                    address=address,
                    topics=topics,
                    data=data,
                    block_number=block.number,
                    tx_hash=tx_hash,
                    tx_index=tx_index,
                    log_index=len(block.logs),
                    block_hash=block.hash,
                )
            )
        self.receipts[tx_hash] = block
        if transaction is not None:
            self.transactions[tx_hash] = transaction
        return block

    def block(self, number: int) -> Block | None:
        index = number - GENESIS_BLOCK
        if 0 <= index < len(self.blocks):
            return self.blocks[index]
        return None

    def get_logs(
        self,
        *,
        from_block: int,
        to_block: int,
        addresses: set[str] | None,
        topics: list[set[str] | None],
    ) -> list[Log]:
        found = []
        first = max(from_block, GENESIS_BLOCK)
        last = min(to_block, self.head.number)
        for number in range(first, last + 1):
            block = self.block(number)
            if block is None:
                continue
            block.sealed = True
            for log in block.logs:
                if addresses is not None and log.address.lower() not in addresses:
                    continue
                if _topics_match(log.topics, topics):
                    found.append(log)
        return found

    def _new_block(self, number: int, timestamp: int, *, sealed: bool = False) -> Block:
        digest = keccak(f"{self._seed}|block|{number}".encode()).hex()
        return Block(number=number, timestamp=timestamp, hash="0x" + digest, sealed=sealed)


def _topics_match(log_topics: list[str], wanted: list[set[str] | None]) -> bool:
    for position, options in enumerate(wanted):
        if options is None:
            continue
        if position >= len(log_topics) or log_topics[position].lower() not in options:
            return False
    return True

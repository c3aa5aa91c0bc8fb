"""Transactions wallets send to the local chain: `eth_sendRawTransaction` from an EOA.

A raw transaction is decoded with rlp (legacy EIP-155, EIP-2930 and EIP-1559 envelopes),
its sender recovered from the signature (eth-account), and its chain id and nonce checked
as a node would: a transaction signed for another chain, or with a nonce already used,
is refused and changes nothing. A call that reverts is still mined, with status 0, and
uses its nonce, as on chain (clients normally see the revert earlier, from
`eth_estimateGas`). Gas is quoted (`eth_gasPrice`, `eth_estimateGas`) but not charged:
the sim keeps no POL balances.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rlp  # type: ignore[import-untyped]
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from polytail.sim.chain import Transaction
from polytail.sim.contracts import Contracts, Reverted
from polytail.sim.signing import CHAIN_ID

GAS_PRICE = 30 * 10**9
CALL_GAS = 180_000
_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)


class RpcError(Exception):
    """A JSON-RPC error object: `{"code": ..., "message": ..., "data": ...}`."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def revert_error(reason: str) -> RpcError:
    """What nodes answer for a reverting call: code 3 with the `Error(string)` payload."""
    payload = _ERROR_STRING + abi_encode(["string"], [reason])
    return RpcError(3, f"execution reverted: {reason}", "0x" + payload.hex())


@dataclass(frozen=True)
class RawTransaction:
    hash: str
    sender: str
    chain_id: int | None
    nonce: int
    to: str
    value: int
    data: str


def _int(field: bytes) -> int:
    return int.from_bytes(field, "big")


def decode_raw(raw_hex: str) -> RawTransaction:
    """Decode and authenticate a signed transaction, or raise `RpcError` (-32602)."""
    try:
        raw = bytes.fromhex(raw_hex.removeprefix("0x"))
        if not raw:
            raise ValueError("empty transaction")
        if raw[0] >= 0xC0:  # legacy: [nonce, gasPrice, gas, to, value, data, v, r, s]
            nonce, _, _, to, value, data, v, _, _ = rlp.decode(raw)
            v_int = _int(v)
            chain_id = (v_int - 35) // 2 if v_int >= 35 else None
        elif raw[0] in (1, 2):  # EIP-2930 / EIP-1559 envelopes
            fields = rlp.decode(raw[1:])
            chain, nonce = fields[0], fields[1]
            to, value, data = fields[4:7] if raw[0] == 1 else fields[5:8]
            chain_id = _int(chain)
        else:
            raise ValueError(f"unsupported transaction type {raw[0]}")
        sender = Account.recover_transaction(raw)
    except RpcError:
        raise
    except Exception as error:  # rlp, signature and field errors all mean the same here
        raise RpcError(-32602, f"invalid transaction: {error}") from None
    if len(to) != 20:
        raise RpcError(-32602, "invalid transaction: contract creation is not supported")
    return RawTransaction(
        hash="0x" + keccak(raw).hex(),
        sender=to_checksum_address(sender),
        chain_id=chain_id,
        nonce=_int(nonce),
        to=to_checksum_address(to),
        value=_int(value),
        data="0x" + bytes(data).hex(),
    )


class Transactions:
    """Nonces, gas quotes and the execution of wallets' transactions on the exchange."""

    def __init__(self, exchange: Any) -> None:
        self.exchange = exchange
        self.contracts = Contracts(exchange)
        self.nonces: dict[str, int] = {}

    def nonce(self, address: str) -> int:
        return self.nonces.get(address.lower(), 0)

    def call(self, spec: dict[str, Any]) -> str:
        """`eth_call`: a view of the contracts."""
        try:
            return self.contracts.read(str(spec["to"]), str(spec.get("data") or spec["input"]))
        except Reverted as error:
            raise revert_error(str(error)) from None

    def estimate(self, spec: dict[str, Any]) -> int:
        """`eth_estimateGas`: the call is planned (every check that could revert), not run."""
        sender = str(spec.get("from") or "0x" + "00" * 20)
        data = str(spec.get("data") or spec.get("input") or "0x")
        if int(str(spec.get("value") or "0x0"), 16):
            raise revert_error("the contracts take no POL")
        try:
            self.contracts.plan(sender, str(spec["to"]), data)
        except Reverted as error:
            raise revert_error(str(error)) from None
        return CALL_GAS

    def send_raw(self, raw_hex: str) -> str:
        """`eth_sendRawTransaction`: check, then mine at once; returns the transaction hash."""
        tx = decode_raw(raw_hex)
        if tx.chain_id != CHAIN_ID:
            raise RpcError(-32000, f"invalid chain id {tx.chain_id}: this chain is {CHAIN_ID}")
        if tx.hash in self.exchange.chain.receipts:
            raise RpcError(-32000, "already known")
        expected = self.nonce(tx.sender)
        if tx.nonce != expected:
            word = "low" if tx.nonce < expected else "high"
            raise RpcError(-32000, f"nonce too {word}: next nonce {expected}, tx nonce {tx.nonce}")
        self.nonces[tx.sender.lower()] = expected + 1
        if tx.value:
            self._mine_failed(tx.hash, tx.sender, tx.to)
            return tx.hash
        self.run(tx.hash, sender=tx.sender, to=tx.to, wallet=tx.sender, calls=[(tx.to, tx.data)])
        return tx.hash

    def run(
        self, tx_hash: str, *, sender: str, to: str, wallet: str, calls: list[tuple[str, str]]
    ) -> str | None:
        """Mine one transaction that makes `calls` (target, calldata) as `wallet`.

        An EOA's own transaction has one call and `wallet` = `sender`; a relayed one is sent
        by the relayer to a wallet contract (or its factory) that makes every call in turn.
        Every call is planned before any is applied, so a batch reverts as a whole (status
        0, nothing changes). UNCERTAIN: a batch whose later call depends on what an earlier
        one changed is not modelled (redemptions never do). Returns the revert reason, or
        None when the transaction succeeded.
        """
        try:
            applies = [self.contracts.plan(wallet, target, data) for target, data in calls]
        except Reverted as error:
            self._mine_failed(tx_hash, sender, to)
            return str(error)
        logs = [log for apply in applies for log in apply(tx_hash)]
        done = Transaction(sender, to, gas_used=CALL_GAS * len(calls))
        self.exchange.chain.mine(tx_hash, logs, self.exchange.now(), transaction=done)
        return None

    def _mine_failed(self, tx_hash: str, sender: str, to: str) -> None:
        failed = Transaction(sender, to, status=0, gas_used=CALL_GAS // 3)
        self.exchange.chain.mine(tx_hash, [], self.exchange.now(), transaction=failed)

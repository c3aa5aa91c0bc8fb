"""Polymarket's relayer: gasless transactions for proxy, Safe and deposit wallets.

A proxy, Safe or deposit wallet is a contract; its owner (an EOA) signs what it should
do and the relayer sends the transaction and pays the gas. The relayer checks what a
wallet contract would check before acting (the owner's signature over exactly these
calls, and the wallet's nonce), so the local one does the same, written from the wire
protocol rather than from any client:

- `PROXY`: the owner signs, as an EIP-191 personal message, `keccak("rlx:" ‖ from ‖ to ‖
  data ‖ relayerFee ‖ gasPrice ‖ gasLimit ‖ nonce ‖ relayHub ‖ relay)`; `data` is
  `proxy((uint8,address,uint256,bytes)[])` on the proxy factory, one entry per call.
- `SAFE`: the owner signs the Safe's EIP-712 `SafeTx` hash, as a personal message (v + 4)
  or directly (v 27/28); one call, or `multiSend(bytes)` by delegatecall for several.
- `WALLET` (deposit wallet): the owner signs EIP-712 `Batch(wallet, nonce, deadline,
  Call[] calls)` in the `DepositWallet` domain.

Each call is then made *as the wallet* through the same contracts an EOA's own
transaction reaches (`Transactions.run`), in one mined transaction sent by the relayer.

Keys: the relayer accepts a Relayer API key (`RELAYER_API_KEY`, `RELAYER_API_KEY_ADDRESS`)
or a Builder API key (`POLY_BUILDER_API_KEY`, `_PASSPHRASE`, `_TIMESTAMP` and an HMAC
`_SIGNATURE` over timestamp + method + path + body). Only keys created through the admin
API (`create_relayer_key`, `create_builder_key`) are valid, so a test can present a wrong
key and see it refused.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from polytail.sim.signing import CHAIN_ID, SignatureRejected, hmac_matches, hmac_signature, recover

PROXY_FACTORY: Final = "0xaB45c5A4B0c941a2F231C04C3f49182e1A254052"
DEPOSIT_WALLET_FACTORY: Final = "0x00000000000Fb5C9ADea0298D729A0CB3823Cc07"
# UNCERTAIN: not listed in polymarket-api.md; these are the production addresses the
# official SDK's environment names for the relay hub and the Safe MultiSend contract.
RELAY_HUB: Final = "0xD216153c06E857cD7f72665E0aF1d7D82172F494"
SAFE_MULTISEND: Final = "0xA238CBeb142c10Ef7Ad8442C6D1f9E89e07e7761"

WALLET_TYPES: Final = {"PROXY": "POLY_PROXY", "SAFE": "GNOSIS_SAFE", "WALLET": "DEPOSIT_WALLET"}
_SIGNATURE_TYPES: Final = {"POLY_PROXY": 1, "GNOSIS_SAFE": 2, "DEPOSIT_WALLET": 3}

_PROXY_CALLS: Final = keccak(b"proxy((uint8,address,uint256,bytes)[])")[:4]
_MULTISEND: Final = keccak(b"multiSend(bytes)")[:4]
_PROXY_CALL_TYPE: Final = 1  # UNCERTAIN: the proxy wallet's code for a plain CALL
_SAFE_TX_TYPEHASH: Final = keccak(
    b"SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,"
    b"uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)"
)
_SAFE_DOMAIN_TYPEHASH: Final = keccak(b"EIP712Domain(uint256 chainId,address verifyingContract)")
_CALL_TYPE: Final = "Call(address target,uint256 value,bytes data)"
_CALL_TYPEHASH: Final = keccak(_CALL_TYPE.encode())
_BATCH_TYPEHASH: Final = keccak(
    ("Batch(address wallet,uint256 nonce,uint256 deadline,Call[] calls)" + _CALL_TYPE).encode()
)
_DOMAIN_TYPEHASH: Final = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_ZERO_ADDRESS: Final = "0x" + "00" * 20

CONFIRMED: Final = "STATE_CONFIRMED"
FAILED: Final = "STATE_FAILED"
UNAUTHORIZED: Final = "invalid authorization: a valid Relayer or Builder API key is required"


class RelayerError(Exception):
    """A refusal, replied as `{"error": message}` with `status` (what the SDK parses)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class RelayerKey:
    key: str
    address: str


@dataclass(frozen=True)
class BuilderKey:
    key: str
    secret: str
    passphrase: str


@dataclass
class Relayed:
    """One submission: the relayer's id, the mined transaction, its terminal state."""

    id: str
    type: str
    signer: str
    wallet: str
    nonce: int
    tx_hash: str
    state: str
    error: str = ""

    def view(self) -> dict[str, Any]:
        return {
            "transaction_id": self.id,
            "transaction_hash": self.tx_hash,
            "state": self.state,
            "type": self.type,
            "from": self.signer,
            "proxy_address": self.wallet,
            "nonce": str(self.nonce),
            "error_msg": self.error or None,
        }


Call = tuple[str, int, str]  # target, value, 0x calldata


def _address(value: object, what: str) -> str:
    try:
        return to_checksum_address(str(value))
    except ValueError:
        raise RelayerError(400, f"invalid {what}: {value!r}") from None


def _uint(value: object, what: str) -> int:
    text = str(value)
    if not text.isdigit():
        raise RelayerError(400, f"invalid {what}: {value!r}")
    return int(text)


def _hex(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RelayerError(400, f"invalid {what}: expected 0x-prefixed hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise RelayerError(400, f"invalid {what}: expected 0x-prefixed hex") from None


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _personal(digest: bytes) -> bytes:
    return keccak(b"\x19Ethereum Signed Message:\n32" + digest)


def _signer(digest: bytes, signature: bytes) -> str:
    try:
        return recover(digest, signature)
    except SignatureRejected:
        raise RelayerError(400, "invalid signature") from None


class Relayer:
    """Nonces, keys and submissions of the local relayer."""

    def __init__(self, exchange: Any) -> None:
        # `Any`: the exchange imports this module; typing it would be an import cycle.
        self.exchange = exchange
        self.address = exchange.named_wallet("relayer")
        self.nonces: dict[str, int] = {}  # by wallet (lowercase)
        self.relayer_keys: dict[str, RelayerKey] = {}
        self.builder_keys: dict[str, BuilderKey] = {}
        self.submitted: dict[str, Relayed] = {}
        self._created = 0

    # -- keys -----------------------------------------------------------------------------

    def _digest(self, what: str) -> bytes:
        self._created += 1
        return keccak(f"{self.exchange.seed}|{what}|{self._created}".encode())

    @staticmethod
    def _uuid(raw: bytes) -> str:
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def create_relayer_key(self, address: str) -> RelayerKey:
        created = RelayerKey(self._uuid(self._digest("relayer-key")), _address(address, "address"))
        self.relayer_keys[created.key] = created
        return created

    def create_builder_key(self) -> BuilderKey:
        digest = self._digest("builder-key")
        created = BuilderKey(
            key=self._uuid(digest),
            secret=base64.urlsafe_b64encode(keccak(digest + b"secret")).decode(),
            passphrase=keccak(digest + b"passphrase").hex(),
        )
        self.builder_keys[created.key] = created
        return created

    def authenticate(self, headers: Mapping[str, str], method: str, path: str, body: str) -> str:
        """Who is calling: the Relayer API key's address, or "builder:<key>"; else 401.

        Header names are matched case-insensitively, as HTTP does.
        """
        relayer_key = headers.get("relayer_api_key", "")
        if relayer_key:
            found = self.relayer_keys.get(relayer_key)
            given = headers.get("relayer_api_key_address", "")
            if found is None or not _same(given, found.address):
                raise RelayerError(401, UNAUTHORIZED)
            return found.address
        builder = self.builder_keys.get(headers.get("poly_builder_api_key", ""))
        if builder is None or headers.get("poly_builder_passphrase") != builder.passphrase:
            raise RelayerError(401, UNAUTHORIZED)
        timestamp = headers.get("poly_builder_timestamp", "")
        expected = hmac_signature(builder.secret, timestamp, method, path, body)
        if not hmac_matches(expected, headers.get("poly_builder_signature", "")):
            raise RelayerError(401, UNAUTHORIZED)
        return f"builder:{builder.key}"

    # -- nonces ---------------------------------------------------------------------------

    def wallet_of(self, signer: str, relay_type: str) -> str:
        """The registered wallet of this kind that `signer` owns."""
        kind = WALLET_TYPES.get(relay_type)
        if kind is None:
            raise RelayerError(400, f"invalid type {relay_type!r}: one of {list(WALLET_TYPES)}")
        wallet = self.exchange.funder(_address(signer, "address"), _SIGNATURE_TYPES[kind])
        if wallet is None:
            raise RelayerError(400, f"no {kind} wallet is deployed for {signer}")
        return str(wallet)

    def nonce(self, wallet: str) -> int:
        return self.nonces.get(wallet.lower(), 0)

    def params(self, signer: str, relay_type: str) -> dict[str, str]:
        """`/relay-payload` (proxy: the relay address) and `/v1/account/transactions/params`
        (Safe, deposit wallet: the wallet). UNCERTAIN: which address the real relayer
        returns for a Safe or deposit wallet; clients read only the nonce there."""
        wallet = self.wallet_of(signer, relay_type)
        address = self.address if relay_type == "PROXY" else wallet
        return {"address": address, "nonce": str(self.nonce(wallet))}

    def _check_nonce(self, wallet: str, given: int) -> None:
        expected = self.nonce(wallet)
        if given != expected:
            # The wording the SDK parses (and retries when the batch nonce is behind).
            raise RelayerError(400, f"batch nonce {given} does not match on-chain nonce {expected}")

    # -- submissions ----------------------------------------------------------------------

    def submit(self, body: Any, caller: str) -> dict[str, Any]:
        """Verify a signed envelope, run its calls as the wallet, and say how it went.

        UNCERTAIN: whether a Relayer API key may act only for its own address; here it must
        belong to the signer or the wallet (a Builder key acts for anyone).
        """
        if not isinstance(body, dict):
            raise RelayerError(400, "invalid request body")
        relay_type = str(body.get("type", ""))
        signer = _address(body.get("from"), "from")
        if not caller.startswith("builder:") and not (
            _same(caller, signer)
            or _same(caller, str(body.get("proxyWallet") or ""))
            or _same(caller, str((body.get("depositWalletParams") or {}).get("depositWallet", "")))
        ):
            raise RelayerError(401, "the Relayer API key does not belong to this signer")
        wallet = self.wallet_of(signer, relay_type)
        nonce = _uint(body.get("nonce"), "nonce")
        if relay_type == "PROXY":
            calls, to = self._proxy(body, signer, wallet, nonce), PROXY_FACTORY
        elif relay_type == "SAFE":
            calls, to = self._safe(body, signer, wallet, nonce), wallet
        else:
            calls, to = self._deposit_wallet(body, signer, wallet, nonce), DEPOSIT_WALLET_FACTORY
        self._check_nonce(wallet, nonce)
        if any(value for _, value, _ in calls):
            raise RelayerError(400, "the contracts take no POL")
        tx_hash = self.exchange.chain.next_tx_hash()
        reason = self.exchange.transactions.run(
            tx_hash,
            sender=self.address,
            to=to,
            wallet=wallet,
            calls=[(target, data) for target, _, data in calls],
        )
        # UNCERTAIN: a reverted batch leaves the wallet's nonce unchanged (the wallet
        # contract's state reverts with it); the relayer reports STATE_FAILED.
        if reason is None:
            self.nonces[wallet.lower()] = nonce + 1
        relayed = Relayed(
            id=self._uuid(keccak(tx_hash.encode())),
            type=relay_type,
            signer=signer,
            wallet=wallet,
            nonce=nonce,
            tx_hash=tx_hash,
            state=CONFIRMED if reason is None else FAILED,
            error="" if reason is None else f"execution reverted: {reason}",
        )
        self.submitted[relayed.id] = relayed
        # UNCERTAIN: the state the real relayer reports on submit (it mines later).
        return {"transactionID": relayed.id, "transactionHash": tx_hash, "state": "STATE_NEW"}

    def transaction(self, transaction_id: str) -> dict[str, Any]:
        found = self.submitted.get(transaction_id)
        if found is None:
            raise RelayerError(404, f"transaction {transaction_id} not found")
        return found.view()

    # -- the three envelopes ----------------------------------------------------------------

    def _proxy(self, body: dict[str, Any], signer: str, wallet: str, nonce: int) -> list[Call]:
        params = body.get("signatureParams") or {}
        to = _address(body.get("to"), "to")
        relay_hub = _address(params.get("relayHub"), "relayHub")
        relay = _address(params.get("relay"), "relay")
        if not _same(to, PROXY_FACTORY) or not _same(relay_hub, RELAY_HUB):
            raise RelayerError(400, "a proxy transaction goes to the proxy factory via the hub")
        if not _same(relay, self.address):
            raise RelayerError(400, f"relay {relay} is not this relayer ({self.address})")
        if not _same(str(body.get("proxyWallet") or ""), wallet):
            raise RelayerError(400, f"proxyWallet is not {signer}'s proxy wallet {wallet}")
        data = _hex(body.get("data"), "data")
        signed = keccak(
            b"rlx:"
            + bytes.fromhex(signer[2:])
            + bytes.fromhex(to[2:])
            + data
            + _uint(params.get("relayerFee"), "relayerFee").to_bytes(32, "big")
            + _uint(params.get("gasPrice"), "gasPrice").to_bytes(32, "big")
            + _uint(params.get("gasLimit"), "gasLimit").to_bytes(32, "big")
            + nonce.to_bytes(32, "big")
            + bytes.fromhex(relay_hub[2:])
            + bytes.fromhex(relay[2:])
        )
        if not _same(_signer(_personal(signed), _hex(body.get("signature"), "signature")), signer):
            raise RelayerError(400, "invalid signature")
        if data[:4] != _PROXY_CALLS:
            raise RelayerError(400, "proxy data is not proxy((uint8,address,uint256,bytes)[])")
        try:
            (entries,) = abi_decode(["(uint8,address,uint256,bytes)[]"], data[4:])
        except (DecodingError, ValueError, OverflowError):
            raise RelayerError(400, "proxy calls do not decode") from None
        calls: list[Call] = []
        for kind, target, value, payload in entries:
            if kind != _PROXY_CALL_TYPE:
                raise RelayerError(400, f"proxy call type {kind} is not CALL")
            calls.append((to_checksum_address(target), int(value), "0x" + bytes(payload).hex()))
        return calls

    def _safe(self, body: dict[str, Any], signer: str, wallet: str, nonce: int) -> list[Call]:
        params = body.get("signatureParams") or {}
        if not _same(str(body.get("proxyWallet") or ""), wallet):
            raise RelayerError(400, f"proxyWallet is not {signer}'s Safe {wallet}")
        to = _address(body.get("to"), "to")
        data = _hex(body.get("data"), "data")
        value = _uint(body.get("value", "0"), "value")
        operation = _uint(params.get("operation", "0"), "operation")
        struct = keccak(
            abi_encode(
                [
                    "bytes32",
                    "address",
                    "uint256",
                    "bytes32",
                    "uint8",
                    "uint256",
                    "uint256",
                    "uint256",
                    "address",
                    "address",
                    "uint256",
                ],
                [
                    _SAFE_TX_TYPEHASH,
                    to,
                    value,
                    keccak(data),
                    operation,
                    _uint(params.get("safeTxnGas", "0"), "safeTxnGas"),
                    _uint(params.get("baseGas", "0"), "baseGas"),
                    _uint(params.get("gasPrice", "0"), "gasPrice"),
                    _address(params.get("gasToken", _ZERO_ADDRESS), "gasToken"),
                    _address(params.get("refundReceiver", _ZERO_ADDRESS), "refundReceiver"),
                    nonce,
                ],
            )
        )
        domain = keccak(
            abi_encode(["bytes32", "uint256", "address"], [_SAFE_DOMAIN_TYPEHASH, CHAIN_ID, wallet])
        )
        digest = keccak(b"\x19\x01" + domain + struct)
        signature = _hex(body.get("signature"), "signature")
        if len(signature) != 65:
            raise RelayerError(400, "invalid signature")
        if signature[64] > 30:  # eth_sign: the Safe hash signed as a personal message
            recovered = _signer(_personal(digest), signature[:64] + bytes([signature[64] - 4]))
        else:
            recovered = _signer(digest, signature)
        if not _same(recovered, signer):
            raise RelayerError(400, "invalid signature")
        if operation == 0:
            return [(to, value, "0x" + data.hex())]
        if operation != 1 or not _same(to, SAFE_MULTISEND) or data[:4] != _MULTISEND:
            raise RelayerError(400, "a delegatecall must be multiSend on the MultiSend contract")
        return self._multisend(data)

    @staticmethod
    def _multisend(data: bytes) -> list[Call]:
        """`multiSend(bytes)`: packed (operation u8, to, value u256, length u256, data)."""
        try:
            (packed,) = abi_decode(["bytes"], data[4:])
        except (DecodingError, ValueError, OverflowError):
            raise RelayerError(400, "multiSend data does not decode") from None
        calls: list[Call] = []
        at = 0
        while at < len(packed):
            if at + 85 > len(packed):
                raise RelayerError(400, "multiSend data is truncated")
            operation = packed[at]
            target = to_checksum_address(packed[at + 1 : at + 21])
            value = int.from_bytes(packed[at + 21 : at + 53], "big")
            length = int.from_bytes(packed[at + 53 : at + 85], "big")
            payload = packed[at + 85 : at + 85 + length]
            if operation != 0 or len(payload) != length:
                raise RelayerError(400, "multiSend entries must be complete CALLs")
            calls.append((target, value, "0x" + bytes(payload).hex()))
            at += 85 + length
        return calls

    def _deposit_wallet(
        self, body: dict[str, Any], signer: str, wallet: str, nonce: int
    ) -> list[Call]:
        params = body.get("depositWalletParams") or {}
        if not _same(str(params.get("depositWallet") or ""), wallet):
            raise RelayerError(400, f"depositWallet is not {signer}'s deposit wallet {wallet}")
        if not _same(_address(body.get("to"), "to"), DEPOSIT_WALLET_FACTORY):
            raise RelayerError(400, "a deposit-wallet batch goes to the deposit wallet factory")
        deadline = _uint(params.get("deadline"), "deadline")
        if deadline < self.exchange.now():
            raise RelayerError(400, f"batch deadline {deadline} has passed")
        calls: list[Call] = []
        for entry in params.get("calls") or []:
            calls.append(
                (
                    _address(entry.get("target"), "call target"),
                    _uint(entry.get("value", "0"), "call value"),
                    "0x" + _hex(entry.get("data"), "call data").hex(),
                )
            )
        if not calls:
            raise RelayerError(400, "a batch needs at least one call")
        hashes = b"".join(
            keccak(
                abi_encode(
                    ["bytes32", "address", "uint256", "bytes32"],
                    [_CALL_TYPEHASH, target, value, keccak(bytes.fromhex(data[2:]))],
                )
            )
            for target, value, data in calls
        )
        struct = keccak(
            abi_encode(
                ["bytes32", "address", "uint256", "uint256", "bytes32"],
                [_BATCH_TYPEHASH, wallet, nonce, deadline, keccak(hashes)],
            )
        )
        domain = keccak(
            abi_encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [_DOMAIN_TYPEHASH, keccak(b"DepositWallet"), keccak(b"1"), CHAIN_ID, wallet],
            )
        )
        # The owner's plain signature. UNCERTAIN/not modelled: session signers' wrapped
        # signatures (they are refused as invalid here).
        signature = _hex(body.get("signature"), "signature")
        recovered = _signer(keccak(b"\x19\x01" + domain + struct), signature)
        if not _same(recovered, signer):
            raise RelayerError(400, "invalid signature")
        return calls

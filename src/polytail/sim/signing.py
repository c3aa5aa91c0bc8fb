"""Signatures as the venue checks them: EIP-712 orders, L1 `ClobAuth`, L2 HMAC headers.

Written from the protocol description (polymarket-api.md §1.4–1.5), not from any SDK, so
the SDK test proves both sides agree on the bytes. Orders are hashed by hand (eth-abi and
keccak) because the order hash is also the venue's order id and is needed for every
order; recovery uses eth-keys, which runs on libsecp256k1 through coincurve.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys.exceptions import BadSignature
from eth_keys.main import KeyAPI
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

CHAIN_ID = 137
EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
EXCHANGE_V3 = "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa"
CTF = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
POSITION_MANAGER = "0x006F54F7f9A22e0000CC2AB60031000000ae9fEF"
PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"
USDC_E = "0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174"  # the old collateral (ERC-20, 6 dp)
ZERO_BYTES32 = "0x" + "00" * 32

ORDER_TYPE = (
    "Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
    "uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
    "bytes32 builder)"
)
_ORDER_TYPEHASH = keccak(ORDER_TYPE.encode())
_DOMAIN_TYPEHASH = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_TYPED_DATA_SIGN_TYPEHASH = keccak(
    (
        "TypedDataSign(Order contents,string name,string version,uint256 chainId,"
        "address verifyingContract,bytes32 salt)" + ORDER_TYPE
    ).encode()
)
_EXCHANGE_NAME = keccak(b"Polymarket CTF Exchange")
_CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"
_KEYS = KeyAPI()

INVALID_SIGNATURE = "invalid signature"


class SignatureRejected(Exception):
    """An order or header whose signature does not verify; the text is the venue's."""


@dataclass(frozen=True)
class SignedOrder:
    """The signed fields of a V2 order as posted in `POST /order`."""

    salt: int
    maker: str
    signer: str
    token_id: int
    maker_amount: int
    taker_amount: int
    side: int
    signature_type: int
    timestamp: int
    metadata: bytes
    builder: bytes
    signature: bytes

    @property
    def side_name(self) -> str:
        return "BUY" if self.side == 0 else "SELL"


def exchange_for(*, version: str, neg_risk: bool) -> tuple[str, str]:
    """(EIP-712 domain version, verifying contract) for a market of this kind."""
    if version == "v2":
        return "3", EXCHANGE_V3
    return "2", NEG_RISK_EXCHANGE_V2 if neg_risk else EXCHANGE_V2


@lru_cache(maxsize=16)
def domain_separator(version: str, verifying_contract: str) -> bytes:
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                _DOMAIN_TYPEHASH,
                _EXCHANGE_NAME,
                keccak(version.encode()),
                CHAIN_ID,
                verifying_contract,
            ],
        )
    )


def order_struct_hash(order: SignedOrder) -> bytes:
    return keccak(
        abi_encode(
            [
                "bytes32",
                "uint256",
                "address",
                "address",
                "uint256",
                "uint256",
                "uint256",
                "uint8",
                "uint8",
                "uint256",
                "bytes32",
                "bytes32",
            ],
            [
                _ORDER_TYPEHASH,
                order.salt,
                order.maker,
                order.signer,
                order.token_id,
                order.maker_amount,
                order.taker_amount,
                order.side,
                order.signature_type,
                order.timestamp,
                order.metadata,
                order.builder,
            ],
        )
    )


def order_digest(order: SignedOrder, separator: bytes) -> bytes:
    return keccak(b"\x19\x01" + separator + order_struct_hash(order))


def recover(digest: bytes, signature: bytes) -> str:
    """The address that signed `digest` (65-byte r‖s‖v signature, v in {0,1,27,28})."""
    if len(signature) != 65:
        raise SignatureRejected(INVALID_SIGNATURE)
    v = signature[64]
    if v >= 27:
        v -= 27
    if v not in (0, 1):
        raise SignatureRejected(INVALID_SIGNATURE)
    try:
        key = _KEYS.ecdsa_recover(digest, _KEYS.Signature(signature[:64] + bytes([v])))
    except (BadSignature, ValueError) as error:
        raise SignatureRejected(INVALID_SIGNATURE) from error
    return str(key.to_checksum_address())


def verify_order(order: SignedOrder, *, version: str, verifying_contract: str) -> tuple[str, str]:
    """Check the order's signature; return (order hash, the EOA that signed it).

    Types 0–2 are plain EIP-712 signatures by `signer`. Type 3 (deposit wallets) carries an
    ERC-7739 `TypedDataSign` wrapper: signature ‖ domain separator ‖ contents hash ‖ type
    string ‖ its length, signed by the wallet's owner.
    """
    separator = domain_separator(version, verifying_contract)
    digest = order_digest(order, separator)
    if order.signature_type in (0, 1, 2):
        signer = recover(digest, order.signature)
        if signer.lower() != order.signer.lower():
            raise SignatureRejected(INVALID_SIGNATURE)
        return "0x" + digest.hex(), signer
    if order.signature_type == 3:
        return "0x" + digest.hex(), _verify_deposit_wallet(order, separator)
    raise SignatureRejected(INVALID_SIGNATURE)


def _verify_deposit_wallet(order: SignedOrder, separator: bytes) -> str:
    raw = order.signature
    type_bytes = ORDER_TYPE.encode()
    expected_length = 65 + 32 + 32 + len(type_bytes) + 2
    if len(raw) != expected_length:
        raise SignatureRejected(INVALID_SIGNATURE)
    signature, app_separator, contents = raw[:65], raw[65:97], raw[97:129]
    declared_type = raw[129:-2]
    contents_hash = order_struct_hash(order)
    if app_separator != separator or contents != contents_hash or declared_type != type_bytes:
        raise SignatureRejected(INVALID_SIGNATURE)
    struct_hash = keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "bytes32", "uint256", "address", "bytes32"],
            [
                _TYPED_DATA_SIGN_TYPEHASH,
                contents_hash,
                keccak(b"DepositWallet"),
                keccak(b"1"),
                CHAIN_ID,
                order.maker,
                b"\x00" * 32,
            ],
        )
    )
    return recover(keccak(b"\x19\x01" + separator + struct_hash), signature)


def clob_auth_signer(*, address: str, timestamp: str, nonce: int, signature: str) -> str:
    """The address that signed an L1 `ClobAuth` message."""
    typed = {
        "domain": {"name": "ClobAuthDomain", "version": "1", "chainId": CHAIN_ID},
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            "ClobAuth": [
                {"name": "address", "type": "address"},
                {"name": "timestamp", "type": "string"},
                {"name": "nonce", "type": "uint256"},
                {"name": "message", "type": "string"},
            ],
        },
        "primaryType": "ClobAuth",
        "message": {
            "address": to_checksum_address(address),
            "timestamp": timestamp,
            "nonce": nonce,
            "message": _CLOB_AUTH_MESSAGE,
        },
    }
    try:
        return str(
            Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
        )
    except Exception as error:  # eth-account raises several types for bad input
        raise SignatureRejected("Invalid L1 Request headers") from error


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    """base64url(HMAC-SHA256(base64url-decoded secret, timestamp + METHOD + path + body))."""
    key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    message = f"{timestamp}{method}{path}{body}".encode()
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def hmac_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.rstrip("="), given.rstrip("="))


def parse_bytes32(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError("expected a 0x-prefixed bytes32")
    raw = bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError("expected 32 bytes")
    return raw


def parse_hex(value: object) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError("expected a 0x-prefixed hex string")
    return bytes.fromhex(value[2:])

"""Identifiers, normalised once at the edge so that equality means identity everywhere.

Addresses and hashes arrive checksummed, lowercase, or uppercase depending on the source
(Data API, RTDS, chain logs, user config). Comparing them raw is how copy bots miss a
leader's fills, so every identifier is validated and lowercased on construction.

`FillId` is the heart of exactly-once copying; see `fill_id` for the rule and why it
does not use the transaction hash alone.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final, NewType

from polytail.domain.money import Shares

Address = NewType("Address", str)
"""A lowercase 0x-prefixed 20-byte address (wallet, proxy, contract)."""

TxHash = NewType("TxHash", str)
"""A lowercase 0x-prefixed 32-byte transaction hash."""

ConditionId = NewType("ConditionId", str)
"""A lowercase market condition id: 0x + 64 hex digits, or 0x + 62 for Protocol V2 combos."""

TokenId = NewType("TokenId", str)
"""An outcome id as a decimal string: a CTF token id (v1 markets) or a position id (v2)."""

FillId = NewType("FillId", str)
"""Stable identity of one leader fill, equal across every feed that reports it."""

ClientOrderId = NewType("ClientOrderId", str)
"""Deterministic local id of an order intent, written before the order is sent."""

AccountId = NewType("AccountId", str)
"""Name of a follower account (one wallet and its ledger)."""

_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]{40}")
_TX_HASH: Final = re.compile(r"0x[0-9a-fA-F]{64}")
_CONDITION_ID: Final = re.compile(r"0x(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{62})")
_TOKEN_ID: Final = re.compile(r"[0-9]{1,78}")
_ACCOUNT_ID: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_UINT256_MAX: Final = 2**256 - 1


class IdError(ValueError):
    """An identifier is malformed. The message names the kind of id and the bad value."""


def address(value: str) -> Address:
    """Validate and lowercase an address (checksummed input is accepted as-is)."""
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value.strip()):
        raise IdError(f"not an address (expected 0x + 40 hex digits): {value!r}")
    return Address(value.strip().lower())


def tx_hash(value: str) -> TxHash:
    if not isinstance(value, str) or not _TX_HASH.fullmatch(value.strip()):
        raise IdError(f"not a transaction hash (expected 0x + 64 hex digits): {value!r}")
    return TxHash(value.strip().lower())


def condition_id(value: str) -> ConditionId:
    if not isinstance(value, str) or not _CONDITION_ID.fullmatch(value.strip()):
        raise IdError(f"not a condition id (expected 0x + 64 hex digits): {value!r}")
    return ConditionId(value.strip().lower())


def token_id(value: str | int) -> TokenId:
    """An outcome id as canonical decimal text (no sign, no leading zeros)."""
    if isinstance(value, bool):
        raise IdError(f"not a token id: {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _TOKEN_ID.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise IdError(f"not a token id (expected a decimal uint256): {value!r}")
    if not 0 < number <= _UINT256_MAX:
        raise IdError(f"token id out of the uint256 range: {value!r}")
    return TokenId(str(number))


def account_id(value: str) -> AccountId:
    if not isinstance(value, str) or not _ACCOUNT_ID.fullmatch(value):
        raise IdError(
            f"not an account name (lowercase letters, digits, '-' or '_', max 64): {value!r}"
        )
    return AccountId(value)


def _digest(*parts: str) -> str:
    material = "\x1f".join(parts).encode()
    return hashlib.blake2b(material, digest_size=16).hexdigest()


def fill_id(
    *,
    tx: TxHash,
    wallet: Address,
    token: TokenId,
    side: str,
    size: Shares,
    occurrence: int,
) -> FillId:
    """Identity of one fill: the same value from the Data API, RTDS and chain logs.

    The key is (transaction, wallet, outcome, side, exact share amount) plus an occurrence
    counter that numbers byte-identical fills inside one transaction. It deliberately
    leaves out what the sources disagree on: the price (the API reports a float of
    pUSD/shares, the chain reports the two integers), the timestamp (a log has only a
    block number) and the log index (absent from every API). That is what lets a later
    sighting from another feed enrich the first one instead of duplicating it.

    Never the transaction hash alone: one transaction settles many fills, and a single
    wallet can have several in it (different price levels, outcomes or sides).
    """
    if occurrence < 0:
        raise IdError(f"occurrence must be >= 0, got {occurrence}")
    if side not in ("BUY", "SELL"):
        raise IdError(f"side must be BUY or SELL, got {side!r}")
    return FillId("f" + _digest(tx, wallet, token, side, str(size.units), str(occurrence))[:31])


def fill_id_without_tx(
    *,
    wallet: Address,
    token: TokenId,
    side: str,
    size: Shares,
    price_text: str,
    timestamp: int,
    occurrence: int,
) -> FillId:
    """Identity for a fill whose source gave no transaction hash (some CSV exports).

    Without a transaction there is nothing to pin the fill to but its content, so the
    price and timestamp join the key. Such fills can never merge with on-chain sightings.
    """
    if side not in ("BUY", "SELL"):
        raise IdError(f"side must be BUY or SELL, got {side!r}")
    return FillId(
        "n"
        + _digest(
            wallet, token, side, str(size.units), price_text, str(timestamp), str(occurrence)
        )[:31]
    )


def client_order_id(account: AccountId, intent_key: str) -> ClientOrderId:
    """Deterministic order id for one intent of one account.

    `intent_key` names why the order exists: `copy:<fill id>` for a copy of a leader fill,
    `exit:<rule>:<token id>:<trigger>` for a rule-driven exit. The same intent always maps
    to the same id, so a retry or a restart can find the order instead of sending another.
    """
    if not intent_key:
        raise IdError("intent_key must not be empty")
    return ClientOrderId("pt-" + _digest(account, intent_key)[:28])


def copy_intent_key(fill: FillId) -> str:
    return f"copy:{fill}"

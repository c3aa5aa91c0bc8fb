"""What the venue and the chain say about a trading wallet: balances, approvals, whether
it is deployed, and whether this IP may trade. `polytail doctor` asks these before the
first live order.

Balances and approvals are read from the chain (`eth_call` on the token contracts), the
source of truth; the CLOB's cached view of the same balance is `LiveTrading.balance`.
Amounts come back as integers of base units (6 decimals for pUSD and USDC.e).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from polytail.venue.chain import ChainClient
from polytail.venue.errors import MalformedRow
from polytail.venue.http import HttpCore

USDC_E: Final = "0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174"  # polymarket-api.md §1.1
"""The collateral before CLOB V2: still accepted by the onramp, useless for trading."""


def _selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


_BALANCE_OF: Final = _selector("balanceOf(address)")
_ALLOWANCE: Final = _selector("allowance(address,address)")
_IS_APPROVED_FOR_ALL: Final = _selector("isApprovedForAll(address,address)")


class WalletReader:
    """ERC-20 balances and allowances and ERC-1155 operator approvals, by `eth_call`."""

    def __init__(self, chain: ChainClient) -> None:
        self.chain = chain

    async def _call(self, to: str, selector: bytes, types: list[str], args: list[Any]) -> int:
        data = "0x" + (selector + abi_encode(types, args)).hex()
        result = await self.chain.rpc("eth_call", [{"to": to, "data": data}, "latest"])
        if not isinstance(result, str) or not result.startswith("0x") or len(result) < 66:
            raise MalformedRow("rpc eth_call", "result", "is not a 32-byte word", result)
        (value,) = abi_decode(["uint256"], bytes.fromhex(result[2:66]))
        return int(value)

    async def balance(self, token: str, owner: str) -> int:
        return await self._call(token, _BALANCE_OF, ["address"], [owner])

    async def allowance(self, token: str, owner: str, spender: str) -> int:
        return await self._call(token, _ALLOWANCE, ["address", "address"], [owner, spender])

    async def approved_for_all(self, contract: str, owner: str, operator: str) -> bool:
        types = ["address", "address"]
        return bool(await self._call(contract, _IS_APPROVED_FOR_ALL, types, [owner, operator]))


@dataclass(frozen=True, slots=True)
class Geoblock:
    blocked: bool
    country: str
    region: str


async def geoblock(http: HttpCore) -> Geoblock:
    """`GET <geoblock_url>`: `{"blocked": bool, "ip", "country", "region"}` (§1.10)."""
    raw = await http.get_json("", family="all")
    if not isinstance(raw, dict) or not isinstance(raw.get("blocked"), bool):
        raise MalformedRow("geoblock", "blocked", "is missing or not a boolean", raw)
    return Geoblock(raw["blocked"], str(raw.get("country") or ""), str(raw.get("region") or ""))


async def deployed(relayer: HttpCore, wallet: str) -> bool:
    """Whether a proxy, Safe or deposit wallet exists on chain (the relayer's `/deployed`)."""
    raw = await relayer.get_json("/deployed", family="all", params={"address": wallet})
    if not isinstance(raw, dict) or not isinstance(raw.get("deployed"), bool):
        raise MalformedRow("relayer /deployed", "deployed", "is missing or not a boolean", raw)
    return bool(raw["deployed"])

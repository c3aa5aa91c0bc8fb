"""The only place that touches `polymarket-client` internals (pinned at 0.14.0).

The SDK has no public way to (1) point a client at other base URLs, which tests and the
local exchange need, (2) refresh the CLOB's cached balance and allowance
(`/balance-allowance/update`), which polytail does after wraps and approvals and before
retrying a balance rejection, (3) read an order reply without the SDK's
normalisation (see `post_signed_order`), or (4) list the wallets a key derives and the
contract addresses it trades with, which `polytail doctor` checks. These use private SDK
modules, so they live here, each in one function, and `tests/venue/test_sdk_compat.py`
fails loudly when an SDK upgrade moves them. Upgrade the pin only together with that test.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Final, Literal

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from polymarket._internal.actions import account as _account
from polymarket._internal.actions.orders import post as _post
from polymarket._internal.environment import PRODUCTION_CONFIG, create_environment
from polymarket._internal.wallet import (
    derive_beacon_deposit_wallet_address,
    derive_proxy_wallet_address,
    derive_safe_wallet_address,
    derive_uups_deposit_wallet_address,
    signature_type_for,
)

from polytail.config.schema import VenueSettings

_ORDER_TYPE_HASH: Final = keccak(
    b"Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
    b"uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
    b"bytes32 builder)"
)
_DOMAIN_TYPE_HASH: Final = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_EXCHANGE_NAME_HASH: Final = keccak(b"Polymarket CTF Exchange")

if TYPE_CHECKING:
    from polymarket import AsyncSecureClient
    from polymarket.environments import Environment
    from polymarket.models.clob.orders import SignedOrder

SDK_VERSION = "0.14.0"

AssetType = Literal["COLLATERAL", "CONDITIONAL", "CONDITIONAL-V2"]


def environment_for(settings: VenueSettings, *, chain_id: int = 137) -> Environment:
    """An SDK environment with the production contracts and the configured base URLs.

    Private API: `polymarket._internal.environment` (`PRODUCTION_CONFIG` is a frozen
    dataclass `EnvironmentConfig`; `create_environment` wraps it). Contract addresses
    stay the production ones; only URLs (and the chain id, when not mainnet) change.
    """
    config = dataclasses.replace(
        PRODUCTION_CONFIG,
        chain_id=chain_id,
        clob_url=settings.clob_url,
        gamma_url=settings.gamma_url,
        data_url=settings.data_url,
        relayer_url=settings.relayer_url,
        rpc_url=settings.rpc_url,
        clob_market_ws_url=settings.clob_market_ws_url,
        clob_user_ws_url=settings.clob_user_ws_url,
        rtds_ws_url=settings.rtds_url,
    )
    name = "production" if config == PRODUCTION_CONFIG else "polytail-custom"
    return create_environment(name=name, config=config)


async def refresh_balance_allowance(
    client: AsyncSecureClient, asset_type: AssetType, token_id: str | None = None
) -> None:
    """`GET /balance-allowance/update`: make the CLOB re-read the wallet from chain.

    Private API: the request builder in `polymarket._internal.actions.account` and the
    client's authenticated CLOB transport (`client._ctx.secure_clob`), exactly as the
    SDK's own allowance recovery does it.
    """
    ctx = client._ctx
    path, params = _account.build_update_balance_allowance_request(
        asset_type=asset_type,
        token_id=token_id,
        signature_type=signature_type_for(ctx.wallet_type),
    )
    await ctx.secure_clob.get_bytes(path, params=params)


async def post_signed_order(client: AsyncSecureClient, signed: SignedOrder) -> object:
    """`POST /order` with the SDK's own payload and L2 auth; returns the raw reply.

    Private API: `polymarket._internal.actions.orders.post.build_post_order_request` and
    `client._ctx.secure_clob`. The public `post_order` normalises the reply and turns
    `status: delayed` with an `errorMsg` into a rejection without the order id; the venue
    documents that combination as accepted, so polytail reads the raw reply itself.
    """
    ctx = client._ctx
    path, payload = _post.build_post_order_request(signed, owner_api_key=ctx.credentials.key)
    reply: object = await ctx.secure_clob.post_json(path, json=payload)
    return reply


def order_hash(client: AsyncSecureClient, signed: SignedOrder, *, v2: bool, neg_risk: bool) -> str:
    """The EIP-712 digest of a signed order: the venue's order id, known before posting.

    The order manager records it before the POST, so an order whose reply was lost can
    be looked up by id after a crash. The digest is the standard EIP-712 one for every
    signature type (a deposit wallet's ERC-7739 wrapper signs the same struct). Private
    API: the exchange addresses and chain id come from `client._ctx.environment_config`
    (the same fields the SDK's `resolve_order_exchange_address` reads).
    """
    config = client._ctx.environment_config
    if v2:
        version, contract = b"3", config.exchange_v3
    else:
        version, contract = (
            b"2",
            (config.neg_risk_exchange if neg_risk else config.standard_exchange),
        )
    separator = keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [_DOMAIN_TYPE_HASH, _EXCHANGE_NAME_HASH, keccak(version), config.chain_id, contract],
        )
    )
    struct = keccak(
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
                _ORDER_TYPE_HASH,
                signed.salt,
                signed.maker,
                signed.signer,
                int(signed.token_id),
                signed.maker_amount,
                signed.taker_amount,
                0 if str(signed.side).upper() == "BUY" else 1,
                signed.signature_type,
                signed.timestamp,
                bytes.fromhex(str(signed.metadata).removeprefix("0x").rjust(64, "0")),
                bytes.fromhex(str(signed.builder).removeprefix("0x").rjust(64, "0")),
            ],
        )
    )
    return "0x" + keccak(b"\x19\x01" + separator + struct).hex()


WalletKind = Literal["EOA", "POLY_PROXY", "GNOSIS_SAFE", "DEPOSIT_WALLET"]


def derived_wallets(signer: str, *, chain_id: int = 137) -> dict[WalletKind, tuple[str, ...]]:
    """Every wallet address the SDK derives from a signer (CREATE2), by wallet type.

    A deposit wallet has two: the current beacon-proxy derivation and the older UUPS one.
    Private API: the derivations in `polymarket._internal.wallet` with the environment's
    `wallet_derivation` factories, exactly what `AsyncSecureClient.create` classifies by.
    """
    config = dataclasses.replace(PRODUCTION_CONFIG, chain_id=chain_id).wallet_derivation
    return {
        "EOA": (signer,),
        "POLY_PROXY": (derive_proxy_wallet_address(signer, config),),
        "GNOSIS_SAFE": (derive_safe_wallet_address(signer, config),),
        "DEPOSIT_WALLET": (
            derive_beacon_deposit_wallet_address(signer, config),
            derive_uups_deposit_wallet_address(signer, config),
        ),
    }


@dataclasses.dataclass(frozen=True, slots=True)
class Contracts:
    """The contracts a trading wallet must approve (polymarket-api.md §1.9), by address."""

    collateral: str  # pUSD
    conditional_tokens: str  # CTF: v1 outcome tokens (standard and neg-risk)
    position_manager: str  # Protocol V2 positions
    standard_exchange: str  # CTF Exchange V2
    neg_risk_exchange: str  # Neg Risk CTF Exchange V2
    exchange_v3: str  # Protocol V2 markets
    collateral_adapter: str  # redeems standard CTF markets
    neg_risk_collateral_adapter: str  # redeems neg-risk CTF markets
    router: str  # redeems Protocol V2 markets


def contracts() -> Contracts:
    """The production contract addresses the SDK signs and approves for (private API:
    `PRODUCTION_CONFIG`; the same fields `setup_trading_approvals` reads)."""
    config = PRODUCTION_CONFIG
    return Contracts(
        collateral=config.collateral_token,
        conditional_tokens=config.conditional_tokens,
        position_manager=config.position_manager,
        standard_exchange=config.standard_exchange,
        neg_risk_exchange=config.neg_risk_exchange,
        exchange_v3=config.exchange_v3,
        collateral_adapter=config.collateral_adapter,
        neg_risk_collateral_adapter=config.neg_risk_collateral_adapter,
        router=config.protocol_v2_router,
    )

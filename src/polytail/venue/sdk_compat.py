"""The only place that touches `polymarket-client` internals (pinned at 0.14.0).

The SDK has no public way to (1) point a client at other base URLs, which tests and the
local exchange need, (2) refresh the CLOB's cached balance and allowance
(`/balance-allowance/update`), which polytail does after wraps and approvals and before
retrying a balance rejection, or (3) read an order reply without the SDK's
normalisation (see `post_signed_order`). These use private SDK modules, so they live
here, each in one function, and `tests/venue/test_sdk_compat.py` fails loudly when an SDK upgrade
moves them. Upgrade the pin only together with that test.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

from polymarket._internal.actions import account as _account
from polymarket._internal.actions.orders import post as _post
from polymarket._internal.environment import PRODUCTION_CONFIG, create_environment
from polymarket._internal.wallet import signature_type_for

from polytail.config.schema import VenueSettings

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

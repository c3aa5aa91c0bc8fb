"""Fails loudly when a polymarket-client upgrade moves the internals polytail relies on."""

from __future__ import annotations

import dataclasses
from importlib.metadata import version

from polymarket._internal.environment import PRODUCTION_CONFIG, get_environment_config
from polymarket._internal.wallet import classify_wallet_type

from polytail.config.schema import VenueSettings
from polytail.venue import sdk_compat


def test_the_pinned_sdk_version_is_installed() -> None:
    assert version("polymarket-client") == sdk_compat.SDK_VERSION


def test_the_environment_config_is_still_a_frozen_dataclass_with_our_url_fields() -> None:
    names = {field.name for field in dataclasses.fields(PRODUCTION_CONFIG)}
    assert {
        "clob_url",
        "gamma_url",
        "data_url",
        "relayer_url",
        "rpc_url",
        "clob_market_ws_url",
        "clob_user_ws_url",
        "rtds_ws_url",
        "chain_id",
    } <= names
    assert PRODUCTION_CONFIG.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_every_base_url_is_taken_from_the_settings() -> None:
    settings = VenueSettings(
        clob_url="http://127.0.0.1:1",
        gamma_url="http://127.0.0.1:2",
        data_url="http://127.0.0.1:3",
        relayer_url="http://127.0.0.1:4",
        rpc_url="http://127.0.0.1:5",
        clob_market_ws_url="ws://127.0.0.1:6",
        clob_user_ws_url="ws://127.0.0.1:7",
        rtds_url="ws://127.0.0.1:8",
    )
    config = get_environment_config(sdk_compat.environment_for(settings))
    assert (
        config.clob_url,
        config.gamma_url,
        config.data_url,
        config.relayer_url,
        config.rpc_url,
        config.clob_market_ws_url,
        config.clob_user_ws_url,
        config.rtds_ws_url,
    ) == tuple(f"{'ws' if i > 5 else 'http'}://127.0.0.1:{i}" for i in range(1, 9))
    assert config.standard_exchange == PRODUCTION_CONFIG.standard_exchange


def test_defaults_reproduce_the_production_environment() -> None:
    environment = sdk_compat.environment_for(VenueSettings())
    assert environment.name == "production"
    assert get_environment_config(environment) == PRODUCTION_CONFIG


def test_the_private_request_builders_still_exist() -> None:
    from polymarket._internal.actions import account  # noqa: PLC0415
    from polymarket._internal.actions.orders import post  # noqa: PLC0415

    path, params = account.build_update_balance_allowance_request(
        asset_type="COLLATERAL", signature_type=2
    )
    assert (path, params) == (
        "/balance-allowance/update",
        {"asset_type": "COLLATERAL", "signature_type": 2},
    )
    assert callable(post.build_post_order_request)


def test_the_wallets_a_key_derives_are_the_ones_the_sdk_classifies() -> None:
    signer = "0x1111111111111111111111111111111111111111"
    derivation = PRODUCTION_CONFIG.wallet_derivation
    for kind, addresses in sdk_compat.derived_wallets(signer).items():
        for wallet in addresses:
            assert classify_wallet_type(signer=signer, wallet=wallet, config=derivation) == kind


def test_the_contracts_polytail_checks_approvals_for_are_the_sdks() -> None:
    found = sdk_compat.contracts()
    assert found.collateral == PRODUCTION_CONFIG.collateral_token
    assert found.exchange_v3 == PRODUCTION_CONFIG.exchange_v3
    assert found.router == PRODUCTION_CONFIG.protocol_v2_router
    assert len({getattr(found, f.name) for f in dataclasses.fields(found)}) == 9

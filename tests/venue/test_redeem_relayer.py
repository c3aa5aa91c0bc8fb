"""`LiveTrading.redeem` for proxy, Safe and deposit wallets: through the relayer with a
configured key (the official SDK against the local exchange), refused with the variables
to set without one, and refused by the relayer, moving nothing, with a wrong one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from eth_account import Account

from polytail.config.schema import WalletSettings, WalletType
from polytail.config.secrets import BuilderKey, GaslessKey, RelayerKey, Secret
from polytail.domain.ids import TokenId
from polytail.sim.server import RunningSim
from polytail.venue import sdk_compat
from polytail.venue.clients import VenueClients
from polytail.venue.errors import Unauthorized
from polytail.venue.trading import LiveTrading, RedemptionUnavailable
from tests.support.sim import REDEMPTION_MARKETS, redemption_sim, venue_settings

MARKETS = [m for m in REDEMPTION_MARKETS if m["slug"] in ("plain", "protocol-v2")]
TYPES = {"POLY_PROXY": WalletType.PROXY, "GNOSIS_SAFE": WalletType.SAFE}
VARIABLES = (
    "POLYTAIL_RELAYER_API_KEY",
    "POLYTAIL_RELAYER_API_KEY_ADDRESS",
    "POLYTAIL_BUILDER_API_KEY",
    "POLYTAIL_BUILDER_API_SECRET",
    "POLYTAIL_BUILDER_API_PASSPHRASE",
)


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with redemption_sim("relayed", seed=29, markets=MARKETS) as running:
        yield running


@pytest.fixture
async def clients(sim: RunningSim) -> AsyncIterator[VenueClients]:
    venue = VenueClients.from_settings(venue_settings(sim))
    yield venue
    await venue.close()


def holding(sim: RunningSim, kind: str, slug: str) -> tuple[Any, str, Any]:
    owner = Account.create()
    wallet = sdk_compat.derived_wallets(owner.address)[kind][0]  # type: ignore[index]
    sim.admin.fund(wallet, pusd="100", owner=owner.address, kind=kind)
    market = next(m for m in sim.exchange.markets.values() if m.slug == slug)
    sim.admin.trade(wallet, market.token_ids[0], "BUY", shares="20", price="0.7")
    sim.admin.resolve(market.condition_id, winner=0)
    return owner, wallet, market


async def trading_for(
    sim: RunningSim, clients: VenueClients, owner: Any, wallet: str, kind: str, key: Any
) -> LiveTrading:
    return await LiveTrading.connect(
        venue=venue_settings(sim),
        wallet=WalletSettings(address=wallet, type=TYPES[kind]),
        private_key=Secret(owner.key.hex()),
        limiter=clients.limiter,
        relayer_key=key,
    )


def key_for(sim: RunningSim, owner: Any, kind: str) -> GaslessKey:
    if kind == "relayer":
        made = sim.admin.relayer_key(owner.address)
        return RelayerKey(Secret(made["key"]), made["address"])
    made = sim.admin.relayer_key()
    return BuilderKey(Secret(made["key"]), Secret(made["secret"]), Secret(made["passphrase"]))


def balances(sim: RunningSim, wallet: str, token: str) -> tuple[int, int]:
    return int(sim.exchange.engine.balance(wallet)), int(sim.exchange.engine.balance(wallet, token))


@pytest.mark.parametrize("slug", ["plain", "protocol-v2"])
@pytest.mark.parametrize(
    ("kind", "key_kind"), [("POLY_PROXY", "relayer"), ("GNOSIS_SAFE", "builder")]
)
async def test_a_configured_key_redeems_through_the_relayer(
    sim: RunningSim, clients: VenueClients, kind: str, key_kind: str, slug: str
) -> None:
    owner, wallet, market = holding(sim, kind, slug)
    token = market.token_ids[0]
    cash, held = balances(sim, wallet, token)
    trading = await trading_for(sim, clients, owner, wallet, kind, key_for(sim, owner, key_kind))
    try:
        ours = await clients.markets.get(market.condition_id)
        tx = await trading.redeem(ours, TokenId(token) if market.version == "v2" else None)
        assert tx.startswith("0x") and tx in sim.exchange.chain.receipts
        assert balances(sim, wallet, token) == (cash + held, 0)
        assert sim.exchange.chain.transactions[tx].sender == sim.exchange.relayer.address
    finally:
        await trading.close()


async def test_without_a_key_redemption_is_unavailable_and_names_the_variables(
    sim: RunningSim, clients: VenueClients
) -> None:
    owner, wallet, market = holding(sim, "POLY_PROXY", "plain")
    token = market.token_ids[0]
    before = balances(sim, wallet, token)
    trading = await trading_for(sim, clients, owner, wallet, "POLY_PROXY", None)
    try:
        with pytest.raises(RedemptionUnavailable) as refused:
            await trading.redeem(await clients.markets.get(market.condition_id))
    finally:
        await trading.close()
    for variable in VARIABLES:
        assert variable in str(refused.value)
    assert balances(sim, wallet, token) == before
    assert sim.exchange.relayer.nonce(wallet) == 0


async def test_a_key_the_relayer_refuses_is_unauthorized_and_moves_nothing(
    sim: RunningSim, clients: VenueClients
) -> None:
    owner, wallet, market = holding(sim, "GNOSIS_SAFE", "plain")
    token = market.token_ids[0]
    before = balances(sim, wallet, token)
    wrong = "6a5b4c3d-0000-4000-a000-notarealkey01"
    trading = await trading_for(
        sim, clients, owner, wallet, "GNOSIS_SAFE", RelayerKey(Secret(wrong), owner.address)
    )
    try:
        with pytest.raises(Unauthorized) as refused:
            await trading.redeem(await clients.markets.get(market.condition_id))
    finally:
        await trading.close()
    assert "relayer" in str(refused.value) and "POLYTAIL_RELAYER_API_KEY" in str(refused.value)
    assert balances(sim, wallet, token) == before
    assert sim.exchange.relayer.nonce(wallet) == 0

"""Pointing the bot at the local exchange: one place that maps its URLs to settings."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Final

import pytest
from polymarket import AsyncSecureClient
from polymarket.errors import UserInputError

from polytail.app.demo import local_venue
from polytail.config.schema import VenueSettings
from polytail.sim.scenarios import parse
from polytail.sim.server import RunningSim, start_sim

REDEMPTION_MARKETS: Final[tuple[dict[str, Any], ...]] = (
    {"slug": "plain", "mid": "0.4", "level_size": "500"},
    {"slug": "negrisk", "neg_risk": True, "event": "election", "mid": "0.3", "level_size": "500"},
    {"slug": "protocol-v2", "version": "v2", "mid": "0.6", "level_size": "500"},
)
"""A standard, a neg-risk and a Protocol V2 market: each of the three redemption paths."""


def venue_settings(sim: RunningSim, **overrides: Any) -> VenueSettings:
    """Every venue URL of the running local exchange (tests use a short timeout)."""
    return VenueSettings(**{**local_venue(sim), "request_timeout_s": 5, **overrides})


def market_state(sim: RunningSim, slug: str) -> dict[str, Any]:
    """The exchange's own description of one of its markets (the ground truth)."""
    found: dict[str, Any] = next(m for m in sim.admin.state()["markets"] if m["slug"] == slug)
    return found


@contextmanager
def settling_sim(
    name: str, seed: int, markets: Sequence[dict[str, Any]], *, clock: str | None = None
) -> Iterator[RunningSim]:
    """A local exchange with `markets` whose trades settle at once (no settle delays);
    `clock = "realtime"` for the runs that watch it on the wall clock."""
    spec: dict[str, Any] = {"name": name, "seed": seed, "markets": list(markets)}
    if clock is not None:
        spec["clock"] = clock
    with start_sim(parse(spec), settle_delays=(0.0, 0.0)) as running:
        yield running


def redemption_sim(
    name: str, seed: int, markets: Sequence[dict[str, Any]] = REDEMPTION_MARKETS
) -> AbstractContextManager[RunningSim]:
    """A local exchange with the redemption markets."""
    return settling_sim(name, seed, markets)


def exchange_market(sim: RunningSim, slug: str) -> Any:
    """The exchange's own market object (tokens, condition id, payouts)."""
    return next(m for m in sim.exchange.markets.values() if m.slug == slug)


def pusd_units(sim: RunningSim, wallet: str) -> int:
    """The wallet's pUSD in base units, as the exchange books it."""
    return int(sim.exchange.engine.balance(wallet))


def share_units(sim: RunningSim, wallet: str, token: str) -> int:
    """The wallet's shares of one outcome in base units, as the exchange books them."""
    return int(sim.exchange.engine.balance(wallet, token))


async def redeem_again_pays_nothing(
    sim: RunningSim, client: AsyncSecureClient, market: Any, token: str, wallet: str
) -> None:
    """Redeem `market` a second time through the SDK: the shares are gone, so the wallet's
    pUSD must not move (a v2 position id is refused outright; a CTF condition pays 0)."""
    before = pusd_units(sim, wallet)
    if market.version == "v2":
        with pytest.raises(UserInputError, match="no balance"):
            await client.redeem_positions(position_id=token)
    else:
        again = await client.redeem_positions(condition_id=market.condition_id)
        await again.wait()
    assert pusd_units(sim, wallet) == before

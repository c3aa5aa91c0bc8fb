"""Build every venue client from `VenueSettings`: one HTTP pool, one limiter, one breaker set.

All base URLs come from the settings, so the same code talks to Polymarket, to a
loopback stand-in in tests, or to the local exchange.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from polytail.config.schema import ChainFeedSettings, VenueSettings
from polytail.domain.ids import Address, ConditionId, address
from polytail.domain.market import Market
from polytail.venue.books import BookCache
from polytail.venue.chain import ChainClient
from polytail.venue.clob import ClobPublic
from polytail.venue.data_api import DataApiV1, DataApiV2
from polytail.venue.errors import NotFound
from polytail.venue.gamma import GammaClient
from polytail.venue.http import HttpCore, shared_client
from polytail.venue.limits import PUBLISHED, Limit, RateLimiter
from polytail.venue.markets import Loader, MarketCache
from polytail.venue.resilience import Breakers
from polytail.venue.stats import VenueStats


@dataclass(slots=True)
class VenueClients:
    http: httpx.AsyncClient
    limiter: RateLimiter
    breakers: Breakers
    stats: VenueStats
    gamma: GammaClient
    clob: ClobPublic
    data_v1: DataApiV1
    data_v2: DataApiV2
    chain: ChainClient
    markets: MarketCache
    books: BookCache

    @classmethod
    def from_settings(
        cls,
        settings: VenueSettings,
        *,
        chain: ChainFeedSettings | None = None,
        table: Sequence[Limit] = PUBLISHED,
        breaker_threshold: int = 5,
        breaker_ttl_s: float = 30.0,
        client: httpx.AsyncClient | None = None,
    ) -> VenueClients:
        stats = VenueStats()
        limiter = RateLimiter(table, share=settings.rate_limit_share, stats=stats)
        breakers = Breakers(threshold=breaker_threshold, ttl_s=breaker_ttl_s, stats=stats)
        pool = client or shared_client()

        def core(base_url: str) -> HttpCore:
            return HttpCore(
                pool, base_url, limiter, breakers, timeout_s=settings.request_timeout_s, stats=stats
            )

        chain_settings = chain or ChainFeedSettings()
        clob = ClobPublic(core(settings.clob_url))
        gamma = GammaClient(core(settings.gamma_url), clob)
        exchanges: list[Address] = [address(a) for a in chain_settings.exchanges]
        return cls(
            http=pool,
            limiter=limiter,
            breakers=breakers,
            stats=stats,
            gamma=gamma,
            clob=clob,
            data_v1=DataApiV1(core(settings.data_url)),
            data_v2=DataApiV2(core(settings.data_url)),
            chain=ChainClient(
                core(settings.rpc_url), exchanges, max_block_range=chain_settings.max_block_range
            ),
            markets=MarketCache(
                _market_loader(gamma, clob),
                load_by_token=gamma.market_by_token,
                ttl_s=settings.market_cache_ttl_s,
                maxsize=settings.market_cache_size,
            ),
            books=BookCache(clob),
        )

    async def close(self) -> None:
        await self.markets.close()
        await self.http.aclose()


def _market_loader(gamma: GammaClient, clob: ClobPublic) -> Loader:
    """Gamma first (labels, fees, tags, version); the CLOB when Gamma does not know it."""

    async def load(condition: ConditionId) -> Market:
        try:
            return await gamma.market(condition)
        except NotFound:
            return await clob.market(condition)

    return load

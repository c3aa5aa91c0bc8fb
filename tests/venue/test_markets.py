"""The market cache: one request per market, never a wait for a market seen before."""

from __future__ import annotations

import asyncio

import pytest

from polytail.domain.ids import ConditionId, TokenId
from polytail.domain.market import Market, MarketVersion, Outcome
from polytail.domain.money import Price
from polytail.venue.errors import ServerError
from polytail.venue.markets import MarketCache


def market(cid: str, question: str = "q") -> Market:
    return Market(
        condition_id=ConditionId(cid),
        version=MarketVersion.V1,
        outcomes=(Outcome(0, "Yes", TokenId(str(int(cid[2:6], 16) * 2 + 1))),),
        tick=Price.parse("0.01"),
        question=question,
    )


class Loader:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail = False
        self.version = 0

    async def __call__(self, cid: ConditionId) -> Market:
        self.calls.append(cid)
        await self.gate.wait()
        if self.fail:
            raise ServerError("gamma down")
        self.version += 1
        return market(cid, question=f"v{self.version}")


CID = "0x" + "ab" * 32


async def test_concurrent_lookups_of_one_market_make_one_request() -> None:
    loader = Loader()
    loader.gate.clear()
    cache = MarketCache(loader)
    waiters = [asyncio.create_task(cache.get(ConditionId(CID))) for _ in range(50)]
    await asyncio.sleep(0)
    loader.gate.set()
    results = await asyncio.gather(*waiters)
    assert loader.calls == [CID] and len({id(r) for r in results}) == 1


async def test_a_stale_market_is_served_at_once_and_refreshed_in_the_background() -> None:
    now = [0.0]
    loader = Loader()
    cache = MarketCache(loader, ttl_s=10, clock=lambda: now[0])
    first = await cache.get(ConditionId(CID))
    now[0] = 11.0
    loader.gate.clear()  # the refresh would block: the hot path must not
    stale = await asyncio.wait_for(cache.get(ConditionId(CID)), timeout=0.1)
    assert stale is first and cache.stats.stale_hits == 1
    loader.gate.set()
    await asyncio.sleep(0.01)
    assert (await cache.get(ConditionId(CID))).question == "v2"


async def test_a_failed_refresh_keeps_the_stale_market() -> None:
    now = [0.0]
    loader = Loader()
    cache = MarketCache(loader, ttl_s=1, clock=lambda: now[0])
    await cache.get(ConditionId(CID))
    loader.fail, now[0] = True, 5.0
    assert (await cache.get(ConditionId(CID))).question == "v1"
    await asyncio.sleep(0.01)
    assert cache.stats.refresh_failures == 1
    assert cache.peek(ConditionId(CID)) is not None


async def test_a_first_load_failure_reaches_the_caller() -> None:
    loader = Loader()
    loader.fail = True
    cache = MarketCache(loader)
    with pytest.raises(ServerError):
        await cache.get(ConditionId(CID))


async def test_the_cache_is_bounded_and_indexes_tokens() -> None:
    loader = Loader()
    cache = MarketCache(loader, maxsize=3)
    cids = [ConditionId("0x" + f"{i:04x}" + "ab" * 30) for i in range(1, 6)]
    for cid in cids:
        await cache.get(cid)
    assert len(cache) == 3 and cache.peek(cids[0]) is None
    last = cache.peek(cids[-1])
    assert last is not None
    assert await cache.get_by_token(last.outcomes[0].token_id) is last

"""Every venue client against the local exchange: what the bot reads is what the venue wrote.

The local exchange is an independent implementation of Polymarket (it imports nothing of
the bot), so these tests catch a client that misreads a shape, a path or a field, with the
exchange's own state as the ground truth.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from polytail.domain.fills import FeedSource, Side
from polytail.domain.ids import address, condition_id, token_id
from polytail.domain.market import MarketVersion
from polytail.domain.money import Price, Shares
from polytail.sim.server import RunningSim, start_sim
from polytail.venue.clients import VenueClients
from tests.support.sim import market_state, venue_settings

LEADER = "0x5A0fDB43238Fff80C69fACdBc0d493210c69AfD7"  # trend-tina, funded by the scenario


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSim]:
    with start_sim("synthetic", seed=11) as running:
        yield running


@pytest.fixture
async def clients(sim: RunningSim) -> AsyncIterator[VenueClients]:
    venue = VenueClients.from_settings(venue_settings(sim))
    try:
        yield venue
    finally:
        await venue.close()


@pytest.mark.parametrize(
    "slug", ["btc-above-150k-dec-31", "best-picture-the-long-road", "mayor-runoff-winner-a"]
)
async def test_gamma_markets_carry_the_exchange_s_ids_and_rules(
    sim: RunningSim, clients: VenueClients, slug: str
) -> None:
    truth = market_state(sim, slug)
    cid = condition_id(truth["condition_id"])
    market = await clients.gamma.market(cid)
    assert market.version is MarketVersion(truth["version"])
    assert list(market.token_ids) == [str(t) for t in truth["token_ids"]]
    assert market.tick == Price.parse(truth["tick_size"])
    assert market.min_size == Shares.parse(truth["min_size"])
    assert market.neg_risk is truth["neg_risk"]
    # The same market by token and by slug.
    by_token = await clients.gamma.market_by_token(token_id(truth["token_ids"][1]))
    by_slug = await clients.gamma.market_by_slug(slug)
    assert by_token.condition_id == by_slug.condition_id == cid


async def test_a_neg_risk_event_lists_all_its_markets(
    sim: RunningSim, clients: VenueClients
) -> None:
    truth = market_state(sim, "best-picture-the-long-road")
    _, markets, rejects = await clients.gamma.event_by_slug(truth["event"])
    assert rejects == []
    expected = {
        m["condition_id"] for m in sim.admin.state()["markets"] if m["event"] == truth["event"]
    }
    assert {m.condition_id for m in markets} == expected
    assert all(m.neg_risk for m in markets)


async def test_the_book_is_best_first_and_agrees_with_price_and_midpoint(
    sim: RunningSim, clients: VenueClients
) -> None:
    truth = market_state(sim, "btc-above-150k-dec-31")
    token = token_id(truth["token_ids"][0])
    book = await clients.clob.book(token)
    assert book.bids and book.asks and not book.is_crossed
    assert book.best_bid == max(level.price for level in book.bids)
    assert book.best_ask == min(level.price for level in book.asks)
    # What a buyer pays is the best ask; what a seller gets is the best bid.
    assert await clients.clob.price(token, Side.BUY) == book.best_ask.to_decimal()  # type: ignore[union-attr]
    assert await clients.clob.price(token, Side.SELL) == book.best_bid.to_decimal()  # type: ignore[union-attr]
    assert await clients.clob.midpoint(token) == book.mid
    assert await clients.clob.tick_size(token) == Price.parse(truth["tick_size"])
    assert await clients.clob.neg_risk(token) is truth["neg_risk"]


async def test_clob_market_metadata_matches_gamma(sim: RunningSim, clients: VenueClients) -> None:
    for slug in ("btc-above-150k-dec-31", "fed-cuts-in-december"):
        cid = condition_id(market_state(sim, slug)["condition_id"])
        from_gamma = await clients.gamma.market(cid)
        for from_clob in (await clients.clob.market(cid), await clients.clob.market_info(cid)):
            assert from_clob.token_ids == from_gamma.token_ids
            assert from_clob.tick == from_gamma.tick
            assert from_clob.neg_risk == from_gamma.neg_risk


async def test_one_leader_fill_reads_the_same_from_data_api_v1_v2_and_the_chain(
    sim: RunningSim, clients: VenueClients
) -> None:
    truth = market_state(sim, "btc-above-150k-dec-31")
    token = truth["token_ids"][0]
    wallet = address(LEADER)
    start_block = await clients.chain.block_number()
    traded = sim.admin.trade(LEADER, token, "BUY", shares="12", price="0.99")
    assert traded  # the exchange reports the match
    sim.admin.advance(2)

    v1 = (await clients.data_v1.activity_fills(wallet, start=1)).batch
    v2 = (await clients.data_v2.activity_fills(wallet, start=1)).batch
    assert v1.rejects == [] and v2.rejects == []
    ours_v1 = [f for f in v1.fills if f.token_id == token and f.side is Side.BUY]
    ours_v2 = [f for f in v2.fills if f.token_id == token and f.side is Side.BUY]
    assert ours_v1 and {f.fill_id for f in ours_v1} == {f.fill_id for f in ours_v2}
    assert sum(f.size.units for f in ours_v1) == Shares.parse("12").units

    head = await clients.chain.block_number()
    assert head > start_block
    on_chain = await clients.chain.fills([wallet], start_block, head)
    chain_fills = [f for f in on_chain.fills if f.token_id == token]
    assert sum(f.size.units for f in chain_fills) == Shares.parse("12").units
    assert all(f.log_index is not None and f.source is FeedSource.CHAIN for f in chain_fills)
    # A taker fill against one price level: one log, one row, one identity for both.
    assert len(chain_fills) == len(ours_v1) == 1
    assert chain_fills[0].fill_id == ours_v1[0].fill_id
    assert chain_fills[0].price == ours_v1[0].price


async def test_positions_and_value_reflect_the_exchange_s_balances(
    sim: RunningSim, clients: VenueClients
) -> None:
    truth = market_state(sim, "fed-cuts-in-december")
    token = truth["token_ids"][1]
    sim.admin.trade(LEADER, token, "BUY", shares="20", price="0.99")
    sim.admin.advance(1)
    wallet = address(LEADER)
    positions, rejects = await clients.data_v1.positions(wallet)
    assert rejects == []
    held = {p.token_id: p.size for p in positions}
    assert held[token_id(token)] >= Shares.parse("20")
    positions_v2, rejects_v2 = await clients.data_v2.positions(wallet)
    assert rejects_v2 == []
    assert {p.token_id: p.size for p in positions_v2}[token_id(token)] == held[token_id(token)]
    assert await clients.data_v1.value(wallet) > Decimal(0)

"""One contract, two brokers: live (the official SDK against the local exchange) and paper
(book walks of the same exchange's books). Both must fill, refuse and report alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from polytail.domain.fills import Side
from polytail.domain.ids import ClientOrderId, ConditionId, TokenId, client_order_id
from polytail.domain.market import Market
from polytail.domain.money import Price, Shares, Usdc, cost_of, proceeds_of
from polytail.domain.orders import OrderIntent, OrderState, OrderType
from polytail.execution.paper import takes
from polytail.sim.server import RunningSim, start_sim
from polytail.venue.errors import InsufficientBalance, NotFilled
from tests.execution.support import (
    ACCOUNT,
    FEE_MARKET,
    Setup,
    live_setup,
    paper_setup,
    scenario,
    tokens,
)


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    with start_sim(scenario(FEE_MARKET), settle_delays=(0.0, 0.0)) as running:
        yield running


@pytest.fixture(params=["live", "paper"])
async def setup(request: pytest.FixtureRequest, sim: RunningSim) -> AsyncIterator[Setup]:
    make = live_setup if request.param == "live" else paper_setup
    made = await make(sim, "100")
    yield made
    await made.broker.close()
    await made.clients.close()


_counter = iter(range(10**6))


def intent(
    market: Market,
    token: TokenId,
    side: Side,
    order_type: OrderType,
    size: str,
    limit: str,
) -> OrderIntent:
    key = f"contract:{next(_counter)}"
    shares, price = Shares.parse(size), Price.parse(limit)
    return OrderIntent(
        client_id=client_order_id(ACCOUNT, key),
        account=ACCOUNT,
        intent_key=key,
        token_id=token,
        condition_id=market.condition_id,
        side=side,
        order_type=order_type,
        limit_price=price,
        size=shares,
        max_spend=cost_of(shares, price) if side is Side.BUY else Usdc(0),
        created_at_ms=0,
        expires_at=None,
    )


async def place(setup: Setup, order: OrderIntent, market: Market):  # type: ignore[no-untyped-def]
    prepared = await setup.broker.prepare(order, market)
    report = await setup.broker.submit(prepared, market)
    assert report.venue_order_id == prepared.venue_order_id
    for trade in report.trades:
        setup.harness.book(trade, market)
    return report


async def fee_market(setup: Setup, sim: RunningSim) -> tuple[Market, TokenId]:
    condition, (yes, _) = tokens(sim, "fees")
    return await setup.market(ConditionId(condition)), yes


async def test_fok_buy_fills_completely_at_the_book_walk_with_the_fee_curve(
    setup: Setup, sim: RunningSim
) -> None:
    market, yes = await fee_market(setup, sim)
    book = await setup.clients.clob.book(yes)
    ask = book.asks[0]
    # The whole first level and 5 shares of the second, limit at the second ask.
    size = ask.size + Shares.parse("5")
    second = book.asks[1].price
    report = await place(
        setup,
        intent(market, yes, Side.BUY, OrderType.FOK, str(size.to_decimal()), str(second)),
        market,
    )
    walk = book.buy_shares(size, second)
    expected_fee = sum(t.fee.units for t in takes(book, Side.BUY, walk.shares, market, taker=True))
    assert report.state is OrderState.MATCHED
    assert report.filled == walk.shares == size
    assert walk.levels == 2
    assert sum(t.shares.units for t in report.trades) == walk.shares.units
    assert sum(t.notional.units for t in report.trades) == walk.notional.units
    assert sum(t.fee.units for t in report.trades) == expected_fee > 0


async def test_fok_that_cannot_fill_completely_is_rejected_and_nothing_moves(
    setup: Setup, sim: RunningSim
) -> None:
    market, yes = await fee_market(setup, sim)
    book = await setup.clients.clob.book(yes)
    best = book.asks[0]
    too_many = str((best.size + Shares.parse("1")).to_decimal())
    cash_before = await setup.broker.cash()
    with pytest.raises(NotFilled):
        await place(
            setup, intent(market, yes, Side.BUY, OrderType.FOK, too_many, str(best.price)), market
        )
    assert await setup.broker.cash() == cash_before


async def test_fak_takes_what_is_within_the_limit_and_cancels_the_rest(
    setup: Setup, sim: RunningSim
) -> None:
    market, yes = await fee_market(setup, sim)
    book = await setup.clients.clob.book(yes)
    best = book.asks[0]
    wanted = best.size + Shares.parse("7")
    report = await place(
        setup,
        intent(market, yes, Side.BUY, OrderType.FAK, str(wanted.to_decimal()), str(best.price)),
        market,
    )
    assert report.state is OrderState.CANCELED
    assert report.filled == best.size
    assert sum(t.notional.units for t in report.trades) == cost_of(best.size, best.price).units


async def test_gtc_below_the_touch_rests_and_cancels(setup: Setup, sim: RunningSim) -> None:
    market, yes = await fee_market(setup, sim)
    book = await setup.clients.clob.book(yes)
    assert book.best_bid is not None
    low = Price(book.best_bid.micros - 2 * market.tick.micros)
    report = await place(
        setup, intent(market, yes, Side.BUY, OrderType.GTC, "10", str(low)), market
    )
    assert report.state is OrderState.LIVE and report.filled == Shares(0)
    assert report.venue_order_id in await setup.broker.open_orders()
    assert await setup.broker.cancel(report.venue_order_id)
    after = await setup.broker.lookup(report.venue_order_id, market)
    assert after is not None and after.state is OrderState.CANCELED
    assert report.venue_order_id not in await setup.broker.open_orders()
    assert not await setup.broker.cancel(report.venue_order_id)


async def test_sell_of_held_shares_receives_the_bids_less_the_fee(
    setup: Setup, sim: RunningSim
) -> None:
    market, yes = await fee_market(setup, sim)
    book = await setup.clients.clob.book(yes)
    await place(
        setup, intent(market, yes, Side.BUY, OrderType.FOK, "10", str(book.asks[0].price)), market
    )
    book = await setup.clients.clob.book(yes)
    bid = book.bids[0]
    sold = await place(
        setup, intent(market, yes, Side.SELL, OrderType.FAK, "10", str(bid.price)), market
    )
    walk = book.sell_shares(Shares.parse("10"), bid.price)
    assert sold.filled == walk.shares
    assert sum(t.notional.units for t in sold.trades) == walk.notional.units
    fee = sum(t.fee.units for t in takes(book, Side.SELL, walk.shares, market, taker=True))
    assert sum(t.fee.units for t in sold.trades) == fee
    assert proceeds_of(walk.shares, bid.price) == walk.notional


async def test_selling_shares_not_held_is_refused(setup: Setup, sim: RunningSim) -> None:
    market, (_, no) = await setup.market(tokens(sim, "fees")[0]), tokens(sim, "fees")[1]
    book = await setup.clients.clob.book(no)
    with pytest.raises(InsufficientBalance):
        await place(
            setup,
            intent(market, no, Side.SELL, OrderType.FAK, "10", str(book.bids[-1].price)),
            market,
        )


async def test_buying_more_than_the_cash_is_refused(setup: Setup, sim: RunningSim) -> None:
    market, yes = await fee_market(setup, sim)
    book = await setup.clients.clob.book(yes)
    # 100 pUSD of cash; a resting bid for 300 shares reserves more than that.
    assert book.best_bid is not None
    with pytest.raises(InsufficientBalance):
        await place(
            setup, intent(market, yes, Side.BUY, OrderType.GTC, "300", str(book.best_bid)), market
        )


async def test_reports_match_the_account_as_the_venue_keeps_it(
    setup: Setup, sim: RunningSim
) -> None:
    market, yes = await fee_market(setup, sim)
    book = await setup.clients.clob.book(yes)
    report = await place(
        setup, intent(market, yes, Side.BUY, OrderType.FOK, "5", str(book.asks[0].price)), market
    )
    cost = sum(t.notional.units + t.fee.units for t in report.trades)
    assert cost > 0
    assert setup.harness.ledger.cash == Usdc.parse("100") - Usdc(cost)
    if setup.broker.name == "live":
        # The exchange's own balance is the ground truth: the same pUSD left the wallet.
        assert await setup.broker.cash() == setup.harness.ledger.cash
        listed = await setup.broker.trades_since(0)
        assert {t.trade_id for t in listed} == {t.trade_id for t in report.trades}
        assert sim.exchange.ledger()["conserved"]
    else:
        assert await setup.broker.cash() == setup.harness.ledger.cash
        assert [t.trade_id for t in await setup.broker.trades_since(0)] == [
            t.trade_id for t in report.trades
        ]


def test_client_ids_are_deterministic() -> None:
    assert client_order_id(ACCOUNT, "copy:f1") == ClientOrderId(client_order_id(ACCOUNT, "copy:f1"))

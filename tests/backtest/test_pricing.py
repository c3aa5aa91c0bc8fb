"""The stated price model: exact at zero slippage, always against the copier, and the
synthetic book rounds against the taker."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polytail.backtest.pricing import UNLIMITED, PriceModel
from polytail.domain.fills import Side
from polytail.domain.ids import token_id
from polytail.domain.money import Price, Shares

TOKEN = token_id("123")
references = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal("0.999999"), places=17, allow_nan=False
)


def test_zero_slippage_is_exactly_the_reference_price() -> None:
    model = PriceModel(slippage_bps=0)
    leader = Decimal("0.5400002392001149")
    assert model.price(leader, Side.BUY) == leader
    assert model.price(leader, Side.SELL) == leader


def test_slippage_moves_the_price_against_the_copier() -> None:
    model = PriceModel(slippage_bps=50)
    assert model.price(Decimal("0.40"), Side.BUY) == Decimal("0.402")
    assert model.price(Decimal("0.40"), Side.SELL) == Decimal("0.398")
    assert model.price(Decimal("0.999"), Side.BUY) == Decimal(1)  # never above 1


@given(references, st.integers(min_value=0, max_value=2_000))
def test_the_synthetic_book_never_gives_the_taker_better_than_the_model(
    reference: Decimal, bps: int
) -> None:
    model = PriceModel(slippage_bps=bps)
    book = model.book(TOKEN, reference, at_ms=0)
    ask = model.price(reference, Side.BUY)
    bid = model.price(reference, Side.SELL)
    assert book.best_ask is not None
    assert ask <= book.best_ask.to_decimal() < ask + Decimal("0.000001")
    if book.best_bid is not None:
        assert bid - Decimal("0.000001") < book.best_bid.to_decimal() <= bid
    assert book.asks[0].size == UNLIMITED


def test_depth_levels_hold_the_stated_pusd_and_worsen_by_the_impact() -> None:
    model = PriceModel(slippage_bps=0, depth_usdc=Decimal(100), impact_bps=100, levels=3)
    book = model.book(TOKEN, Decimal("0.5"), at_ms=0)
    assert [level.price for level in book.asks] == [
        Price.parse("0.5"),
        Price.parse("0.505"),
        Price.parse("0.51"),
    ]
    assert book.asks[0].size == Shares.parse(200)  # 100 pUSD at 0.50
    walk = book.buy_shares(Shares.parse(300))
    assert walk.complete and walk.worst_price == Price.parse("0.505")
    assert not book.buy_shares(Shares.parse(10_000)).complete  # the book ends


@pytest.mark.parametrize("bad", [{"slippage_bps": -1}, {"depth_usdc": Decimal(0)}, {"levels": 0}])
def test_a_nonsensical_model_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        PriceModel(**bad)  # type: ignore[arg-type]

"""Hold-to-resolution accounting: sales beyond what the history bought count only for
the covered part, and nothing is lost: covered PnL + the uncovered effect is the naive
join of every fill to its payout."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from polytail.backtest.accounting import Book, Trade, totals
from polytail.domain.fills import Side
from polytail.domain.ids import address, condition_id, token_id

WALLET = address("0x" + "1" * 40)
CONDITION = condition_id("0x" + "2" * 64)
YES = token_id("7")


def trade(side: Side, shares: str, price: str, at: int = 0, fee: str = "0") -> Trade:
    s, p = Decimal(shares), Decimal(price)
    return Trade(WALLET, CONDITION, YES, side, s, s * p, Decimal(fee), at)


def settled(book: Book, payout: Decimal | None, mark: Decimal | None = None) -> Book:
    book.settle(lambda _: payout, lambda _: mark, lambda _: 10_000)
    return book


def test_a_position_held_to_a_win_pays_its_shares() -> None:
    book = Book()
    book.apply(trade(Side.BUY, "100", "0.40", at=1_000, fee="0.50"))
    book.apply(trade(Side.SELL, "30", "0.70", at=4_000))
    position = settled(book, Decimal(1)).positions[(WALLET, YES)]
    assert position.held == Decimal(70)
    assert position.pnl == Decimal("21") - Decimal("40") - Decimal("0.50") + Decimal("70")
    assert position.holding_ms == 9_000  # first buy to settlement
    assert totals([position]).win_rate == Decimal(1)


def test_a_sale_beyond_the_recorded_buys_counts_only_its_covered_part() -> None:
    book = Book()
    book.apply(trade(Side.SELL, "50", "0.80", at=0))  # bought before the history began
    book.apply(trade(Side.BUY, "10", "0.50", at=1))
    book.apply(trade(Side.SELL, "25", "0.60", at=2))  # 10 covered, 15 not
    position = settled(book, Decimal(0)).positions[(WALLET, YES)]
    assert position.sold == Decimal(10) and position.held == Decimal(0)
    assert position.pnl == Decimal("6") - Decimal("5")
    assert position.uncovered_fills == 2
    assert position.uncovered_shares == Decimal(65)
    assert position.uncovered_notional == Decimal("40") + Decimal("9")
    assert position.holding_ms == 1  # emptied by the covered sale at 2


def test_an_unresolved_market_is_valued_at_its_last_price() -> None:
    book = Book()
    book.apply(trade(Side.BUY, "10", "0.30"))
    position = settled(book, None, Decimal("0.45")).positions[(WALLET, YES)]
    assert not position.resolved and position.value == Decimal("4.5")
    assert totals([position]).unresolved == 1


sides = st.sampled_from([Side.BUY, Side.SELL])
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000), places=2)
prices = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.999"), places=3)


@given(st.lists(st.tuples(sides, amounts, prices), max_size=30), st.sampled_from([0, 1]))
def test_covered_pnl_plus_the_uncovered_effect_is_the_naive_join(
    trades: list[tuple[Side, Decimal, Decimal]], payout: int
) -> None:
    book = Book()
    for at, (side, shares, price) in enumerate(trades):
        book.apply(Trade(WALLET, CONDITION, YES, side, shares, shares * price, Decimal(0), at))
    settled(book, Decimal(payout))
    naive = sum(
        (
            shares * (payout - price) if side is Side.BUY else shares * (price - payout)
            for side, shares, price in trades
        ),
        Decimal(0),
    )
    result = totals(book.select())
    assert result.pnl + result.uncovered_effect == naive
    assert all(position.held >= 0 for position in book.positions.values())

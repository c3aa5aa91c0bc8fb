"""Positions: attribution per leader, exits never sell what isn't held, money conserved."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polytail.domain.ids import AccountId, Address, ConditionId, TokenId
from polytail.domain.money import Shares, Usdc
from polytail.domain.positions import InsufficientShares, Lot, Position

ALICE = Address("0x" + "a" * 40)
BOB = Address("0x" + "b" * 40)


def empty() -> Position:
    return Position(AccountId("default"), TokenId("7"), ConditionId("0x" + "1" * 64), 0)


def test_buys_are_attributed_to_the_copied_leader() -> None:
    position = empty().bought(ALICE, Shares.parse("10"), Usdc.parse("5"), Usdc.parse("0.1"))
    position = position.bought(BOB, Shares.parse("4"), Usdc.parse("2"), Usdc(0))
    assert position.held_for(ALICE) == Shares.parse("10")
    assert position.held_for(BOB) == Shares.parse("4")
    assert position.cost == Usdc.parse("7.1")  # fees are part of the cost basis
    assert position.fees_paid == Usdc.parse("0.1")


def test_a_leader_exit_sells_only_its_own_shares() -> None:
    position = empty().bought(ALICE, Shares.parse("10"), Usdc.parse("5"), Usdc(0))
    position = position.bought(BOB, Shares.parse("4"), Usdc.parse("2"), Usdc(0))
    with pytest.raises(InsufficientShares, match="only 4"):
        position.sold(BOB, Shares.parse("5"), Usdc.parse("3"), Usdc(0))
    after, realized = position.sold(ALICE, Shares.parse("4"), Usdc.parse("3"), Usdc.parse("0.05"))
    assert after.held_for(ALICE) == Shares.parse("6")
    assert after.held_for(BOB) == Shares.parse("4")
    assert realized == Usdc.parse("0.95")  # 3 - 0.05 fee - 2 cost of 4/10 of the lot


def test_redemption_splits_the_payout_across_lots_exactly() -> None:
    position = empty().bought(ALICE, Shares.parse("10"), Usdc.parse("5"), Usdc(0))
    position = position.bought(BOB, Shares.parse("5"), Usdc.parse("3"), Usdc(0))
    flat, realized = position.redeemed(Usdc.parse("15"))
    assert flat.is_flat and flat.cost == Usdc(0)
    assert realized == {ALICE: Usdc.parse("5"), BOB: Usdc.parse("2")}
    assert flat.realized_pnl == Usdc.parse("7")


trades = st.lists(
    st.tuples(
        st.sampled_from([ALICE, BOB]),
        st.booleans(),  # buy?
        st.integers(min_value=1, max_value=10**9),  # shares
        st.integers(min_value=0, max_value=10**9),  # notional
        st.integers(min_value=0, max_value=10**6),  # fee
    ),
    max_size=50,
)


@given(trades)
def test_money_is_conserved_and_nothing_unheld_is_sold(
    steps: list[tuple[Address, bool, int, int, int]],
) -> None:
    """cash + open cost basis == starting cash + realized PnL, after every event."""
    start = Usdc.parse("1000000")
    cash = start
    position = empty()
    for leader, is_buy, shares, amount, fee in steps:
        if is_buy:
            position = position.bought(leader, Shares(shares), Usdc(amount), Usdc(fee))
            cash = cash - Usdc(amount) - Usdc(fee)
        else:
            held = position.held_for(leader)
            if Shares(shares) > held:
                with pytest.raises(InsufficientShares):
                    position.sold(leader, Shares(shares), Usdc(amount), Usdc(fee))
                continue
            position, _ = position.sold(leader, Shares(shares), Usdc(amount), Usdc(fee))
            cash = cash + Usdc(amount) - Usdc(fee)
        assert cash + position.cost == start + position.realized_pnl
        assert all(lot.shares.units >= 0 and lot.cost.units >= 0 for lot in position.lots.values())


@given(
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=0, max_value=10**12),
    st.data(),
)
def test_taking_from_a_lot_conserves_cost(shares: int, cost: int, data: st.DataObject) -> None:
    lot = Lot(Shares(shares), Usdc(cost))
    take = Shares(data.draw(st.integers(min_value=0, max_value=shares)))
    rest, removed = lot.take(take)
    assert rest.cost + removed == lot.cost
    assert rest.shares + take == lot.shares
    assert removed.units >= 0 and rest.cost.units >= 0

"""The portfolio view: exposure as defined, kept up to date event by event.

The engine builds a view from the ledger at startup and then applies events; the two
must agree, or a cap would be checked against a number nobody can explain.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from polytail.domain.ids import Address, ConditionId, TokenId
from polytail.domain.money import Shares, Usdc
from polytail.domain.positions import InsufficientShares
from polytail.policy import OpenBuy, OpenSell, PortfolioView

from .support import (
    CONDITION,
    DAY,
    LEADER,
    NO,
    NOW_MS,
    OTHER,
    OTHER_CONDITION,
    YES,
    portfolio,
    shares,
    usdc,
)

DAY_MS = 86_400_000


def test_an_open_buy_counts_its_reserve_until_filled_then_its_cost() -> None:
    view = portfolio().buy_order_opened(
        token=YES, condition=CONDITION, leader=LEADER, reserve=usdc("10.3")
    )
    assert view.total_exposure == view.market_exposure_of(CONDITION) == usdc("10.3")
    assert view.outcome_exposure_of(YES) == view.leader(LEADER).exposure == usdc("10.3")
    assert view.committed == usdc("10.3") and view.open_orders == 1
    # it fills completely at a better price than reserved
    view = view.buy_order_released(
        token=YES, condition=CONDITION, leader=LEADER, reserve=usdc("10.3"), closed=True
    ).bought(
        token=YES,
        condition=CONDITION,
        outcome_index=0,
        leader=LEADER,
        shares=shares("20"),
        notional=usdc("9.8"),
        fee=usdc("0.2"),
        seq=1,
    )
    assert view.total_exposure == usdc("10") and view.committed == Usdc(0)
    assert view.cash == usdc("990") and view.open_orders == 0
    assert view.held(YES, LEADER) == shares("20")
    assert view.lot_versions[(YES, LEADER)] == 1


def test_a_sale_removes_its_cost_and_books_realized_pnl_for_the_day() -> None:
    view = portfolio().bought(
        token=YES,
        condition=CONDITION,
        outcome_index=0,
        leader=LEADER,
        shares=shares("100"),
        notional=usdc("50"),
        fee=Usdc(0),
        seq=1,
    )
    view = view.sell_order_opened(token=YES, leader=LEADER, shares=shares("40"))
    assert view.available(YES, LEADER) == shares("60")
    view = view.sell_order_released(token=YES, leader=LEADER, shares=shares("40"), closed=True)
    view = view.sold(
        token=YES,
        leader=LEADER,
        shares=shares("40"),
        proceeds=usdc("16"),
        fee=usdc("0.1"),
        now_ms=NOW_MS,
        seq=2,
    )
    assert view.total_exposure == usdc("30")  # 60 % of the cost remains
    assert view.realized_today_on(DAY) == usdc("-4.1")
    assert view.leader(LEADER).realized_today == usdc("-4.1")
    assert view.leader(LEADER).last_loss_ms == NOW_MS
    assert view.realized_today_on(DAY + 1) == Usdc(0)  # a new day starts from zero


def test_the_first_sale_of_a_new_day_restarts_the_daily_counters() -> None:
    view = portfolio(realized_today=usdc("-80")).bought(
        token=YES,
        condition=CONDITION,
        outcome_index=0,
        leader=LEADER,
        shares=shares("10"),
        notional=usdc("5"),
        fee=Usdc(0),
        seq=1,
    )
    view = view.sold(
        token=YES,
        leader=LEADER,
        shares=shares("10"),
        proceeds=usdc("6"),
        fee=Usdc(0),
        now_ms=NOW_MS + DAY_MS,
        seq=2,
    )
    assert view.day == DAY + 1 and view.realized_today == usdc("1")
    assert view.positions.get(YES) is None  # flat positions leave the view
    assert (YES, LEADER) not in view.lot_versions


def test_redemption_closes_every_lot() -> None:
    view = portfolio()
    for leader, amount in ((LEADER, "10"), (OTHER, "30")):
        view = view.bought(
            token=YES,
            condition=CONDITION,
            outcome_index=0,
            leader=leader,
            shares=shares(amount),
            notional=usdc(amount) - usdc("5"),
            fee=Usdc(0),
            seq=1,
        )
    view = view.redeemed(token=YES, payout=usdc("40"), now_ms=NOW_MS)
    assert view.total_exposure == Usdc(0) and not view.market_exposure
    assert view.realized_today == usdc("10")
    assert view.leader(LEADER).realized_today == usdc("5")
    assert view.cash == usdc("1000") - usdc("30") + usdc("40")


def test_marks_move_equity_and_peaks_but_not_exposure() -> None:
    view = portfolio().marked(equity=usdc("1100"), leader_pnl={LEADER: usdc("40")})
    view = view.marked(equity=usdc("900"), leader_pnl={LEADER: usdc("-10")})
    assert view.equity == usdc("900") and view.peak_equity == usdc("1100")
    assert view.leader(LEADER).pnl == usdc("-10")
    assert view.leader(LEADER).peak_pnl == usdc("40")
    assert view.total_exposure == Usdc(0)


def test_releasing_more_than_is_being_sold_is_an_error() -> None:
    with pytest.raises(InsufficientShares, match="releasing"):
        portfolio().sell_order_released(token=YES, leader=LEADER, shares=Shares(1), closed=True)


# --- incremental == from scratch -----------------------------------------------------

TOKENS: list[tuple[TokenId, ConditionId]] = [
    (YES, CONDITION),
    (NO, CONDITION),
    (TokenId("77"), OTHER_CONDITION),
]
LEADERS: list[Address] = [LEADER, OTHER]


@dataclass
class Model:
    view: PortfolioView
    buys: dict[int, OpenBuy]
    sells: dict[int, OpenSell]
    next_id: int = 0
    seq: int = 0


events = st.lists(
    st.tuples(
        st.sampled_from(["buy", "fill_buy", "cancel_buy", "sell", "fill_sell", "cancel_sell"]),
        st.integers(0, len(TOKENS) - 1),
        st.sampled_from(LEADERS),
        st.integers(1, 10**8),  # an amount in base units
        st.integers(0, 99),  # which open order
    ),
    max_size=60,
)


def _apply(model: Model, event: tuple[str, int, Address, int, int]) -> None:
    kind, which, leader, amount, pick = event
    token, condition = TOKENS[which]
    view = model.view
    if kind == "buy":
        model.buys[model.next_id] = OpenBuy(token, condition, leader, Usdc(amount))
        model.next_id += 1
        model.view = view.buy_order_opened(
            token=token, condition=condition, leader=leader, reserve=Usdc(amount)
        )
    elif kind in ("fill_buy", "cancel_buy") and model.buys:
        key = sorted(model.buys)[pick % len(model.buys)]
        order = model.buys[key]
        if kind == "cancel_buy":
            del model.buys[key]
            model.view = view.buy_order_released(
                token=order.token_id,
                condition=order.condition_id,
                leader=order.leader,
                reserve=order.reserve,
                closed=True,
            )
            return
        used = min(order.reserve.units, amount)  # a (partial) fill, cost <= reserve
        rest = order.reserve.units - used
        closed = rest == 0
        if closed:
            del model.buys[key]
        else:
            model.buys[key] = OpenBuy(order.token_id, order.condition_id, order.leader, Usdc(rest))
        model.seq += 1
        model.view = view.buy_order_released(
            token=order.token_id,
            condition=order.condition_id,
            leader=order.leader,
            reserve=Usdc(used),
            closed=closed,
        ).bought(
            token=order.token_id,
            condition=order.condition_id,
            outcome_index=TOKENS.index((order.token_id, order.condition_id)),
            leader=order.leader,
            shares=Shares(used * 2),
            notional=Usdc(used - used // 50),
            fee=Usdc(used // 50),
            seq=model.seq,
        )
    elif kind == "sell":
        available = view.available(token, leader).units
        if available:
            size = Shares(1 + amount % available)
            model.sells[model.next_id] = OpenSell(token, leader, size)
            model.next_id += 1
            model.view = view.sell_order_opened(token=token, leader=leader, shares=size)
    elif kind in ("fill_sell", "cancel_sell") and model.sells:
        key = sorted(model.sells)[pick % len(model.sells)]
        order = model.sells[key]
        del model.sells[key]
        model.view = view.sell_order_released(
            token=order.token_id, leader=order.leader, shares=order.shares, closed=True
        )
        if kind == "fill_sell":
            model.seq += 1
            model.view = model.view.sold(
                token=order.token_id,
                leader=order.leader,
                shares=order.shares,
                proceeds=Usdc(order.shares.units // 3),
                fee=Usdc(0),
                now_ms=NOW_MS,
                seq=model.seq,
            )


@settings(max_examples=150, deadline=None)
@given(events)
def test_incremental_updates_equal_a_view_built_from_scratch(
    sequence: list[tuple[str, int, Address, int, int]],
) -> None:
    model = Model(portfolio(), {}, {})
    for event in sequence:
        _apply(model, event)
    view = model.view
    rebuilt = PortfolioView.build(
        account=view.account,
        cash=view.cash,
        equity=view.equity,
        peak_equity=view.peak_equity,
        day=view.day,
        realized_today=view.realized_today,
        positions=view.positions.values(),
        open_buys=model.buys.values(),
        open_sells=model.sells.values(),
        leaders={leader: stats for leader, stats in view.leaders.items()},
        lot_versions=dict(view.lot_versions.items()),
    )
    assert rebuilt == view
    # and the aggregates mean what they say
    for token, condition in TOKENS:
        held = view.positions.get(token)
        cost = held.cost.units if held else 0
        reserved = sum(b.reserve.units for b in model.buys.values() if b.token_id == token)
        assert view.outcome_exposure_of(token).units == cost + reserved
        del condition
    assert view.committed.units == sum(b.reserve.units for b in model.buys.values())
    assert view.open_orders == len(model.buys) + len(model.sells)

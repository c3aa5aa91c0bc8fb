"""Invariants over any sequence of leader fills.

A small simulation runs the policy against a portfolio: every copy is opened as an order,
and orders fill at their limit, stay open, or are cancelled, in an order hypothesis
chooses. Whatever happens:

- no exposure (per market, per outcome, per leader, in total) ever exceeds its cap, no
  copy exceeds the per-order maximum, and cash never dips into the reserve;
- no order is below the venue minimum, off the 0.01 step or off the tick;
- no exit sells more than is held for its leader, or touches another leader's shares;
- a decision is a pure function of its inputs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polytail.domain.book import Level, OrderBook
from polytail.domain.decisions import Decision
from polytail.domain.fills import Side
from polytail.domain.ids import Address, ConditionId, TokenId
from polytail.domain.market import Outcome
from polytail.domain.money import SCALE, Price, Shares, Usdc
from polytail.domain.orders import OrderType
from polytail.domain.venue_rules import MIN_MARKETABLE_NOTIONAL, SIZE_STEP
from polytail.policy import Accumulator, LeaderView, Policy, PortfolioView, Quote

from .support import (
    CONDITION,
    CRYPTO_FEES,
    LEADER,
    NO,
    NOW_MS,
    OTHER,
    OTHER_CONDITION,
    YES,
    config,
    fill,
    market,
    portfolio,
)

THIRD = TokenId("77")
OUTCOMES: list[tuple[TokenId, ConditionId]] = [
    (YES, CONDITION),
    (NO, CONDITION),
    (THIRD, OTHER_CONDITION),
]
LEADERS: list[Address] = [LEADER, OTHER]


def amount(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(str)


configs = st.fixed_dictionaries(
    {
        "risk": st.fixed_dictionaries(
            {
                "max_order_usdc": amount(1, 60),
                "max_market_usdc": amount(2, 120),
                "max_outcome_usdc": amount(2, 100),
                "max_leader_usdc": amount(2, 150),
                "max_total_usdc": amount(5, 300),
                "cash_reserve_usdc": amount(0, 50),
                "max_open_orders": st.integers(2, 30),
                "daily_loss_usdc": st.none(),
                "leader_daily_loss_usdc": st.none(),
                "max_drawdown_pct": st.none(),
                "leader_max_drawdown_pct": st.none(),
            }
        ),
        "sizing": st.one_of(
            st.fixed_dictionaries({"mode": st.just("fixed"), "fixed_usdc": amount(1, 80)}),
            st.fixed_dictionaries(
                {"mode": st.just("ratio"), "ratio": st.sampled_from(["0.01", "0.1", "0.5", "2"])}
            ),
            st.fixed_dictionaries(
                {"mode": st.just("equity_pct"), "equity_pct": st.sampled_from(["0.5", "5", "40"])}
            ),
        ).flatmap(
            lambda sizing: st.fixed_dictionaries(
                {
                    **{key: st.just(value) for key, value in sizing.items()},
                    "fee_aware": st.booleans(),
                    "below_minimum": st.sampled_from(["skip", "accumulate"]),
                }
            )
        ),
        "pricing": st.fixed_dictionaries(
            {
                "slippage_bps": st.sampled_from([0, 50, 200, 1000]),
                "buy_order_type": st.sampled_from(["FOK", "FAK", "GTC"]),
                "sell_order_type": st.sampled_from(["FOK", "FAK", "GTC"]),
            }
        ),
        "filters": st.just({"max_spread": None, "price_min": "0.01", "price_max": "0.99"}),
    }
)


@st.composite
def books(draw: st.DrawFn, token: TokenId, tick: int, cents: int) -> OrderBook:
    """A book near the leader's price (within a few ticks), 0 to 4 levels a side."""
    mid = cents * 10_000 + draw(st.integers(-3, 3)) * tick
    levels = draw(st.integers(0, 4))

    def side(direction: int) -> tuple[Level, ...]:
        result = []
        for step in range(1, levels + 1):
            micros = mid + direction * step * tick * draw(st.integers(1, 3))
            if tick <= micros <= SCALE - tick:
                size = Shares(draw(st.integers(1, 3000)) * 10_000)
                result.append(Level(Price(micros), size))
        # keep strictly best-first
        result.sort(key=lambda level: level.price.micros, reverse=direction < 0)
        unique: dict[int, Level] = {}
        for level in result:
            unique.setdefault(level.price.micros, level)
        return tuple(unique.values())

    return OrderBook(token, bids=side(-1), asks=side(+1))


steps = st.lists(
    st.tuples(
        st.sampled_from(LEADERS),
        st.integers(0, len(OUTCOMES) - 1),
        st.sampled_from([Side.BUY, Side.BUY, Side.SELL]),
        st.integers(5, 95),  # leader price, cents
        st.integers(1, 500),  # leader shares
        st.sampled_from(["fill", "fill", "rest", "cancel"]),  # what becomes of our order
        st.integers(0, 99),  # settle one earlier order?
        st.booleans(),  # is the leader's holding known?
    ),
    min_size=1,
    max_size=25,
)


@dataclass
class Open:
    decision: Decision
    reserve: Usdc


@dataclass
class Sim:
    policy: Policy
    risk: dict[str, Any]
    view: PortfolioView
    pending: Accumulator = field(default_factory=Accumulator)
    orders: list[Open] = field(default_factory=list)
    leader_held: dict[tuple[Address, TokenId], int] = field(default_factory=dict)
    seq: int = 0

    def settle(self, order: Open, outcome: str) -> None:
        decision = order.decision
        token, leader = decision.token_id, decision.leader
        assert token is not None and leader is not None and decision.condition_id is not None
        self.orders.remove(order)
        if decision.side is Side.BUY:
            self.view = self.view.buy_order_released(
                token=token,
                condition=decision.condition_id,
                leader=leader,
                reserve=order.reserve,
                closed=True,
            )
            if outcome == "fill":
                self.seq += 1
                self.view = self.view.bought(
                    token=token,
                    condition=decision.condition_id,
                    outcome_index=[t for t, _ in OUTCOMES].index(token),
                    leader=leader,
                    shares=decision.size,
                    notional=decision.notional,
                    fee=decision.fee,
                    seq=self.seq,
                )
        else:
            self.view = self.view.sell_order_released(
                token=token, leader=leader, shares=decision.size, closed=True
            )
            if outcome == "fill":
                self.seq += 1
                self.view = self.view.sold(
                    token=token,
                    leader=leader,
                    shares=decision.size,
                    proceeds=decision.notional,
                    fee=decision.fee,
                    now_ms=NOW_MS,
                    seq=self.seq,
                )

    def open(self, decision: Decision) -> Open:
        token, leader = decision.token_id, decision.leader
        assert token is not None and leader is not None and decision.condition_id is not None
        if decision.side is Side.BUY:
            reserve = decision.notional + decision.fee
            self.view = self.view.buy_order_opened(
                token=token, condition=decision.condition_id, leader=leader, reserve=reserve
            )
        else:
            reserve = Usdc(0)
            self.view = self.view.sell_order_opened(
                token=token, leader=leader, shares=decision.size
            )
        order = Open(decision, reserve)
        self.orders.append(order)
        return order


def check_caps(sim: Sim) -> None:
    risk, view = sim.risk, sim.view

    def cap(key: str) -> Usdc:
        return Usdc.parse(risk[key])

    assert view.total_exposure <= cap("max_total_usdc")
    for exposure in view.market_exposure.values():
        assert exposure <= cap("max_market_usdc")
    for exposure in view.outcome_exposure.values():
        assert exposure <= cap("max_outcome_usdc")
    for stats in view.leaders.values():
        assert stats.exposure <= cap("max_leader_usdc")
    assert view.cash - view.committed >= cap("cash_reserve_usdc")
    for position in view.positions.values():
        for lot in position.lots.values():
            assert lot.shares.units >= 0


def check_order(decision: Decision, view_before: PortfolioView, risk: dict[str, Any]) -> None:
    assert decision.limit_price is not None and decision.order_type is not None
    tick = Price.parse("0.01")
    assert decision.limit_price.is_tradable(tick)
    assert decision.size.units % SIZE_STEP.units == 0
    if decision.order_type is OrderType.GTC:
        assert decision.size >= Shares.parse("5")
    else:
        worth = decision.size.units * decision.limit_price.micros
        assert worth >= MIN_MARKETABLE_NOTIONAL.units * SCALE
    if decision.side is Side.BUY:
        assert decision.notional + decision.fee <= Usdc.parse(risk["max_order_usdc"])
        assert view_before.open_orders < risk["max_open_orders"]
    else:
        token, leader = decision.token_id, decision.leader
        assert token is not None and leader is not None
        assert decision.size <= view_before.available(token, leader)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs, steps, st.integers(50, 1000), st.booleans(), st.data())  # cash >= any reserve
def test_no_sequence_of_fills_breaks_a_cap_oversells_or_goes_below_the_minimum(
    sections: dict[str, Any],
    sequence: list[tuple[Address, int, Side, int, int, str, int, bool]],
    cash: int,
    with_fees: bool,
    data: st.DataObject,
) -> None:
    rules = Policy.from_config(
        config(leaders=[{"address": LEADER}, {"address": OTHER}], **sections)
    )
    sim = Sim(rules, sections["risk"], portfolio(str(cash)))
    for leader, which, side, cents, size, outcome, settle, known in sequence:
        token, condition = OUTCOMES[which]
        book = data.draw(books(token, 10_000, cents))
        quote = Quote(
            market(condition_id=condition, fees=CRYPTO_FEES if with_fees else market().fees)
            if condition == CONDITION
            else market(
                condition_id=condition,
                outcomes=(Outcome(0, "Yes", THIRD),),
            ),
            book,
        )
        held = sim.leader_held.get((leader, token), 0)
        leader_size = size * SCALE if side is Side.BUY else min(size * SCALE, held) or size * SCALE
        leader_fill = fill(
            side, str(Decimal(cents) / 100), str(Shares(leader_size)), wallet=leader, token=token
        )
        view_before = sim.view
        snapshot = copy.deepcopy((leader_fill, quote, view_before, sim.pending))
        leader_view = LeaderView(position_before=Shares(held) if known else None)
        decision, pending = rules.decide(
            leader_fill, quote, view_before, leader_view, now_ms=NOW_MS, pending=sim.pending
        )
        # pure: the same inputs give the same decision, and nothing was mutated
        again, again_pending = rules.decide(
            leader_fill, quote, view_before, leader_view, now_ms=NOW_MS, pending=sim.pending
        )
        assert (again, again_pending) == (decision, pending)
        assert snapshot == (leader_fill, quote, view_before, sim.pending)
        sim.pending = pending
        sim.leader_held[(leader, token)] = max(
            0, held + (leader_size if side is Side.BUY else -leader_size)
        )
        if decision.is_copy:
            check_order(decision, view_before, sim.risk)
            before = view_before.positions.get(token)
            other_lots = {
                key: lot
                for key, lot in (before.lots.items() if before is not None else ())
                if key != decision.leader
            }
            order = sim.open(decision)
            if outcome != "rest":
                sim.settle(order, outcome)
            after = sim.view.positions.get(token)
            for key, lot in other_lots.items():  # no other leader's shares were touched
                assert after is not None and after.lots[key] == lot
        if sim.orders and settle % 3 == 0:
            sim.settle(sim.orders[settle % len(sim.orders)], "fill" if settle % 2 else "cancel")
        sim.view = sim.view.marked(equity=sim.view.cash + sim.view.total_exposure)
        check_caps(sim)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 10**5).map(lambda n: n * 10_000),  # our shares for LEADER
    st.integers(0, 10**5).map(lambda n: n * 10_000),  # our shares for OTHER
    st.integers(1, 10**6),  # the leader's holding, in shares
    st.lists(st.integers(1, 100), min_size=1, max_size=8),  # percent sold each time
)
def test_proportional_exits_conserve_attribution(
    ours: int, theirs: int, leader_holds: int, sales: list[int]
) -> None:
    rules = Policy.from_config(
        config(
            leaders=[{"address": LEADER}, {"address": OTHER}], pricing={"sell_order_type": "GTC"}
        )
    )
    view = portfolio()
    for who, amount_ in ((LEADER, ours), (OTHER, theirs)):
        if amount_:
            view = view.bought(
                token=YES,
                condition=CONDITION,
                outcome_index=0,
                leader=who,
                shares=Shares(amount_),
                notional=Usdc(amount_ // 2),
                fee=Usdc(0),
                seq=1,
            )
    quote = Quote(
        market(), OrderBook(YES, bids=(Level(Price.parse("0.5"), Shares(10**12)),), asks=())
    )
    leader_left = leader_holds * SCALE
    sold_total = 0
    for pct in sales:
        if leader_left == 0:
            break
        sold = max(1, leader_left * pct // 100)
        available = view.available(YES, LEADER).units
        decision, _ = rules.decide(
            fill(Side.SELL, "0.5", str(Shares(sold))),
            quote,
            view,
            LeaderView(position_before=Shares(leader_left)),
            now_ms=NOW_MS,
            pending=Accumulator(),
        )
        leader_left -= sold
        if not decision.is_copy:
            continue
        assert decision.leader == LEADER
        assert decision.size.units <= available
        # at least the leader's fraction of what we had, rounded down to the step
        assert decision.size.units >= (available * sold // (leader_left + sold)) // 10_000 * 10_000
        view = view.sold(
            token=YES,
            leader=LEADER,
            shares=decision.size,
            proceeds=decision.notional,
            fee=Usdc(0),
            now_ms=NOW_MS,
            seq=2,
        )
        sold_total += decision.size.units
        assert view.held(YES, OTHER).units == theirs  # untouched
    assert sold_total <= ours
    assert view.held(YES, LEADER).units == ours - sold_total
    if leader_left == 0:
        # the leader is out: so are we, but for what the venue could never take
        assert view.held(YES, LEADER).units < 5 * SCALE

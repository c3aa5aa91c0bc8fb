"""Exits: leader sells mirrored on that leader's shares only, and exit rules as data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from polytail.domain.decisions import Action, Decision, ReasonCode
from polytail.domain.fills import Side
from polytail.domain.market import Resolution
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.orders import OrderType
from polytail.policy import Accumulator, LeaderView, OpenSell, Policy, PortfolioView, Quote

from .support import (
    CONDITION,
    LEADER,
    NO,
    NOW_MS,
    NOW_S,
    OTHER,
    YES,
    book,
    decide,
    decide_with_pending,
    fill,
    market,
    policy,
    portfolio,
    position,
    price,
    shares,
)


def holding(ours: str = "100", theirs: str = "50", **build: Any) -> PortfolioView:
    """Our YES position: `ours` shares for LEADER (cost 0.40 each), `theirs` for OTHER."""
    lots = {LEADER: (ours, str(Decimal(ours) * Decimal("0.4")))}
    if Decimal(theirs):
        lots[OTHER] = (theirs, str(Decimal(theirs) * Decimal("0.4")))
    return portfolio(positions=[position(lots)], **build)


def sell(
    leader_sold: str,
    leader_held: str | None,
    view: PortfolioView | None = None,
    rules: Policy | None = None,
) -> Decision:
    """Our decision when LEADER sells `leader_sold` of the `leader_held` shares it had."""
    held = None if leader_held is None else LeaderView(position_before=shares(leader_held))
    return decide(
        rules or policy(),
        fill(Side.SELL, "0.50", leader_sold),
        portfolio_=view or holding(),
        leader=held,
    )


@pytest.mark.parametrize(
    ("leader_sold", "leader_held", "ours"),
    [
        ("100", "400", "25"),  # 25 %
        ("1", "3", "33.33"),  # a third, rounded down to the step
        ("400", "400", "100"),  # full exit
        ("500", "400", "100"),  # stale holding: never more than ours
    ],
)
def test_a_leader_sale_sells_the_same_fraction_of_its_lot(
    leader_sold: str, leader_held: str, ours: str
) -> None:
    decision = sell(leader_sold, leader_held)
    assert decision.is_copy and decision.side is Side.SELL
    assert decision.leader == LEADER  # booked against the selling leader's lot only
    assert decision.size == shares(ours)
    assert decision.reasons == (ReasonCode.EXIT_MIRROR,)
    assert decision.order_type is OrderType.FAK and decision.limit_price == price("0.49")
    assert decision.notional == Usdc(decision.size.units * 49 // 100)  # least it receives


def test_an_unknown_leader_holding_is_a_full_exit() -> None:
    decision = sell("10", None)
    assert decision.size == shares("100")
    assert decision.reasons == (ReasonCode.EXIT_MIRROR, ReasonCode.EXIT_LEADER_POSITION_UNKNOWN)


def test_nothing_held_for_that_leader_is_a_skip_even_if_another_leader_holds() -> None:
    view = portfolio(positions=[position({OTHER: ("100", "40")})])
    decision = sell("10", "100", view=view)
    assert decision.reasons == (ReasonCode.EXIT_NOTHING_HELD,)
    assert decision.detail == "nothing held for this leader"


def test_shares_already_in_open_sells_are_not_sold_twice() -> None:
    view = holding(open_sells=[OpenSell(YES, LEADER, shares("60"))])
    decision = sell("50", "100", view=view)  # half of the 40 still available
    assert decision.size == shares("20")
    everything = holding(open_sells=[OpenSell(YES, LEADER, shares("100"))])
    skipped = sell("50", "100", view=everything)
    assert skipped.reasons == (ReasonCode.EXIT_NOTHING_HELD,)
    assert "already in open sell orders" in skipped.detail


def test_a_remainder_too_small_to_sell_alone_goes_with_this_sale() -> None:
    """10 shares at 0.49: 85 % leaves 1.5 shares (0.73 pUSD), below the 1 pUSD minimum."""
    view = holding("10", "0")
    decision = sell("85", "100", view=view)
    assert decision.size == shares("10")
    assert decision.reasons == (ReasonCode.EXIT_MIRROR, ReasonCode.EXIT_REMAINDER_DUST)


def test_a_sale_below_the_venue_minimum_is_skipped_or_accumulated() -> None:
    view = holding("10", "0")
    assert sell("10", "100", view=view).reasons == (ReasonCode.SIZE_BELOW_MINIMUM,)  # 1 share
    rules = policy(sizing={"below_minimum": "accumulate"})
    pending = Accumulator()
    outcomes = []
    for _ in range(3):
        decision, pending = decide_with_pending(
            rules,
            fill(Side.SELL, "0.50", "10"),
            portfolio_=view,
            leader=LeaderView(position_before=shares("100")),
            pending=pending,
        )
        outcomes.append(decision)
    assert outcomes[0].reasons == (ReasonCode.SIZE_ACCUMULATING,)  # 1 share waits
    # second: 10 % of the 9 not yet queued = 0.9, plus 1 queued = 1.9 < 2.05 minimum
    assert outcomes[1].reasons == (ReasonCode.SIZE_ACCUMULATING,)
    third = outcomes[2]  # 10 % of 8.1 = 0.81, + 1.9 = 2.71 shares: sent
    assert third.reasons == (ReasonCode.EXIT_MIRROR, ReasonCode.SIZE_ACCUMULATED)
    assert third.size == shares("2.71")
    assert pending == Accumulator()


def test_mirroring_can_be_turned_off() -> None:
    decision = sell("100", "100", rules=policy(exits={"mirror_sells": False}))
    assert decision.reasons == (ReasonCode.EXIT_MIRROR_DISABLED,)


def test_fok_sells_shrink_to_the_bids_within_the_limit() -> None:
    rules = policy(pricing={"sell_order_type": "FOK"})
    thin = Quote(market(), book(bids=(("0.49", "30"), ("0.40", "500"))))
    decision = decide(
        rules,
        fill(Side.SELL, "0.50", "100"),
        thin,
        holding(),
        LeaderView(position_before=shares("100")),
    )
    assert decision.size == shares("30")
    assert decision.reasons == (ReasonCode.EXIT_MIRROR, ReasonCode.BOOK_LIQUIDITY)


def test_gtc_sells_rest_and_expire() -> None:
    rules = policy(pricing={"sell_order_type": "GTC", "gtc_ttl_s": 300})
    empty = Quote(market(), book(bids=()))
    decision = decide(rules, fill(Side.SELL), empty, holding(), LeaderView(shares("100")))
    assert decision.is_copy and decision.order_type is OrderType.GTC
    assert decision.expires_at == NOW_S + 300


# --- exit rules -----------------------------------------------------------------------


def rules_with(**exits: Any) -> Policy:
    return policy(exits=exits)


def evaluate(
    rules: Policy,
    mark: str,
    view: PortfolioView | None = None,
    high_water: str | None = None,
    quote_: Quote | None = None,
    now_ms: int = NOW_MS,
) -> tuple[Decision, ...]:
    return rules.exit_rules(
        token=YES,
        quote=quote_ or Quote(market(), book()),
        portfolio=view or holding("100", "0"),
        mark=price(mark),
        high_water=None if high_water is None else price(high_water),
        now_ms=now_ms,
    )


@pytest.mark.parametrize(
    ("exits", "mark", "high_water", "rule"),
    [
        ({"take_profit_pct": 50}, "0.60", None, ReasonCode.EXIT_TAKE_PROFIT),  # cost 0.40
        ({"stop_loss_pct": 25}, "0.30", None, ReasonCode.EXIT_STOP_LOSS),
        ({"trailing_stop_pct": 20}, "0.56", "0.70", ReasonCode.EXIT_TRAILING_STOP),
        ({"stop_loss_pct": 25, "take_profit_pct": 10}, "0.30", None, ReasonCode.EXIT_STOP_LOSS),
    ],
)
def test_exit_rules_trigger_at_their_thresholds(
    exits: dict[str, object], mark: str, high_water: str | None, rule: ReasonCode
) -> None:
    (decision,) = evaluate(rules_with(**exits), mark, high_water=high_water)
    assert decision.is_copy and decision.reasons == (rule,)
    assert decision.side is Side.SELL and decision.size == shares("100")
    assert decision.fill_id is None and decision.leader == LEADER
    assert decision.limit_price == price("0.49")  # best bid 0.49, 2 % slippage, tick up
    assert decision.intent_key.startswith(f"exit:{rule.value.removeprefix('exit_')}:{YES}:")


@pytest.mark.parametrize(
    ("exits", "mark", "high_water"),
    [
        ({"take_profit_pct": 50}, "0.59", None),
        ({"stop_loss_pct": 25}, "0.31", None),
        ({"trailing_stop_pct": 20}, "0.57", "0.70"),
        ({"trailing_stop_pct": 20}, "0.10", None),  # no high-water mark yet
        ({}, "0.01", None),
    ],
)
def test_exit_rules_stay_quiet_inside_their_thresholds(
    exits: dict[str, object], mark: str, high_water: str | None
) -> None:
    assert evaluate(rules_with(**exits), mark, high_water=high_water) == ()


def test_exit_before_resolution() -> None:
    rules = rules_with(exit_before_resolution_minutes=30)
    closing = Quote(market(end_date=NOW_S + 30 * 60), book())
    (decision,) = evaluate(rules, "0.5", quote_=closing)
    assert decision.reasons == (ReasonCode.EXIT_BEFORE_RESOLUTION,)
    later = Quote(market(end_date=NOW_S + 30 * 60 + 1), book())
    assert evaluate(rules, "0.5", quote_=later) == ()


def test_rules_sell_each_leader_lot_on_its_own_cost() -> None:
    """LEADER's lot cost 0.40 a share, OTHER's 0.20: at 0.45 only OTHER's is +50 %."""
    view = portfolio(positions=[position({LEADER: ("100", "40"), OTHER: ("50", "10")})])
    decisions = evaluate(rules_with(take_profit_pct=50), "0.45", view=view)
    assert [(d.leader, d.size) for d in decisions] == [(OTHER, shares("50"))]


def test_a_trigger_keeps_its_intent_key_until_the_lot_changes() -> None:
    rules = rules_with(stop_loss_pct=25)
    view = holding("100", "0", lot_versions={(YES, LEADER): 7})
    first = evaluate(rules, "0.30", view=view)[0]
    again = evaluate(rules, "0.29", view=view)[0]
    assert first.intent_key == again.intent_key == f"exit:stop_loss:{YES}:{LEADER}-7"
    partly = view.sold(
        token=YES,
        leader=LEADER,
        shares=shares("40"),
        proceeds=Usdc.parse("12"),
        fee=Usdc(0),
        now_ms=NOW_MS,
        seq=8,
    )
    changed = evaluate(rules, "0.30", view=partly)[0]
    assert changed.intent_key == f"exit:stop_loss:{YES}:{LEADER}-8"
    assert changed.size == shares("60")


def test_a_triggered_lot_in_open_sells_gives_nothing_more() -> None:
    view = holding("100", "0", open_sells=[OpenSell(YES, LEADER, shares("100"))])
    assert evaluate(rules_with(stop_loss_pct=25), "0.1", view=view) == ()


def test_triggered_lots_that_cannot_be_sold_are_recorded_as_skips() -> None:
    rules = rules_with(stop_loss_pct=25)
    killed = holding("100", "0").with_controls(kill_switch=True)
    (decision,) = evaluate(rules, "0.1", view=killed)
    assert decision.action is Action.SKIP
    assert decision.reasons == (ReasonCode.KILL_SWITCH, ReasonCode.EXIT_STOP_LOSS)
    (decision,) = evaluate(rules, "0.1", quote_=Quote(market(), book(token=NO)))
    assert decision.reasons == (ReasonCode.BOOK_UNAVAILABLE, ReasonCode.EXIT_STOP_LOSS)
    no_bids = Quote(market(), book(bids=()))
    (decision,) = evaluate(rules, "0.1", quote_=no_bids)
    assert decision.reasons == (ReasonCode.PRICE_SLIPPAGE, ReasonCode.EXIT_STOP_LOSS)
    dust = holding("1", "0")  # 1 share at 0.49 is below 1 pUSD
    (decision,) = evaluate(rules, "0.1", view=dust)
    assert decision.reasons == (ReasonCode.SIZE_BELOW_MINIMUM, ReasonCode.EXIT_STOP_LOSS)


def test_no_rule_exits_on_resolved_or_closed_markets() -> None:
    rules = rules_with(stop_loss_pct=25)
    assert evaluate(rules, "0.1", quote_=Quote(market(closed=True), book())) == ()
    resolved = Quote(market(resolution=Resolution.winner(1, 2)), book())
    assert evaluate(rules, "0.1", quote_=resolved) == ()
    unknown = rules.exit_rules(
        token=YES,
        quote=None,
        portfolio=holding(),
        mark=price("0.1"),
        high_water=None,
        now_ms=NOW_MS,
    )
    assert unknown == ()


def test_exit_rule_intent_keys_name_rule_token_and_lot() -> None:
    decision = evaluate(rules_with(take_profit_pct=10), "0.9")[0]
    assert decision.intent_key == f"exit:take_profit:{YES}:{LEADER}-0"
    assert decision.condition_id == CONDITION
    assert decision.limit_price == Price.parse("0.49")
    assert decision.size == Shares.parse("100")

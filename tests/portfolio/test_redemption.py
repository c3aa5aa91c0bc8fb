"""Resolution and redemption: a resolution marks claims, a redemption pays them exactly
once, whatever the venue reports, on binary, 50-50, neg-risk and v2 (per-outcome) markets."""

from __future__ import annotations

import pytest

from polytail.domain.ids import ConditionId, TokenId
from polytail.domain.ledger import HoldingStatus, ResolutionResult
from polytail.domain.money import Usdc
from polytail.portfolio import Ledger, LedgerError
from tests.ledger_events import (
    ACCOUNT,
    ALICE,
    BOB,
    MARKET,
    NO,
    YES,
    buy,
    deposit,
    redeemed,
    resolved,
    sell,
)


def holding_yes_and_no() -> Ledger:
    """10 YES at 0.6 (cost 6) for Alice, 5 NO at 0.3 (cost 1.5) for Bob."""
    ledger = Ledger(ACCOUNT)
    ledger.apply(deposit("100"))
    ledger.apply(buy("y", "10", "0.6", leader=ALICE, token=YES))
    ledger.apply(buy("n", "5", "0.3", leader=BOB, token=NO))
    return ledger


def test_a_resolution_marks_claims_but_moves_no_cash() -> None:
    ledger = holding_yes_and_no()
    cash = ledger.cash
    ledger.apply(resolved("1", "0"))
    yes, no = ledger.holding(YES), ledger.holding(NO)
    assert yes is not None and no is not None
    assert (yes.status, yes.result, yes.claim_value) == (
        HoldingStatus.RESOLVED,
        ResolutionResult.WON,
        Usdc.parse("10"),
    )
    assert (no.result, no.claim_value) == (ResolutionResult.LOST, Usdc(0))
    assert ledger.cash == cash
    assert ledger.totals.realized_pnl == Usdc(0)
    assert [holding.token_id for holding in ledger.redeemable()] == [YES, NO]


def test_redeeming_a_binary_market_pays_the_winner_and_closes_the_loser() -> None:
    ledger = holding_yes_and_no()
    ledger.apply(resolved("1", "0"))
    booking = ledger.apply(redeemed("10"))
    assert booking is not None
    assert booking.allocations == {YES: Usdc.parse("10"), NO: Usdc(0)}
    assert ledger.cash == Usdc.parse("100") - Usdc.parse("7.5") + Usdc.parse("10")
    assert ledger.leader_pnl(ALICE).realized_pnl == Usdc.parse("4")
    assert ledger.leader_pnl(BOB).realized_pnl == Usdc.parse("-1.5")
    assert ledger.open_cost == Usdc(0)
    assert ledger.redeemable() == []


def test_a_redemption_reported_twice_pays_once_even_under_another_id() -> None:
    ledger = holding_yes_and_no()
    ledger.apply(resolved("1", "0"))
    ledger.apply(redeemed("10", "0xfirst"))
    after = ledger.snapshot()
    assert ledger.apply(redeemed("10", "0xfirst")) is None
    assert ledger.apply(redeemed("10", "0xsecond-report-of-the-same-claim")) is None
    assert ledger.apply(redeemed("10", "0xthird", outcome_index=0)) is None
    assert ledger.snapshot() == after


def test_a_50_50_resolution_pays_half_per_share() -> None:
    ledger = holding_yes_and_no()
    ledger.apply(resolved("0.5", "0.5"))
    assert ledger.claim_value(MARKET) == Usdc.parse("7.5")
    holding = ledger.holding(YES)
    assert holding is not None and holding.result is ResolutionResult.SPLIT
    ledger.apply(redeemed("7.5"))
    assert ledger.totals.realized_pnl == Usdc(0)  # paid 7.5 in total, redeemed 7.5
    assert ledger.leader_pnl(ALICE).realized_pnl == Usdc.parse("-1")
    assert ledger.leader_pnl(BOB).realized_pnl == Usdc.parse("1")


def test_v2_markets_redeem_each_outcome_separately_and_each_once() -> None:
    ledger = holding_yes_and_no()
    ledger.apply(resolved("0.5", "0.5"))
    first = ledger.apply(redeemed("5", "0xa", outcome_index=0))
    assert first is not None and first.allocations == {YES: Usdc.parse("5")}
    no = ledger.holding(NO)
    assert no is not None and no.status is HoldingStatus.RESOLVED  # not redeemed yet
    assert ledger.apply(redeemed("5", "0xb", outcome_index=0)) is None
    second = ledger.apply(redeemed("2.5", "0xc", outcome_index=1))
    assert second is not None and second.allocations == {NO: Usdc.parse("2.5")}
    # a whole-condition report afterwards finds nothing left to pay
    assert ledger.apply(redeemed("7.5", "0xd")) is None
    assert ledger.cash == Usdc.parse("100")


def test_neg_risk_pays_only_the_winning_outcome() -> None:
    """A neg-risk event is one binary market per candidate; exactly one candidate's YES wins,
    every other candidate's NO wins."""
    candidates = [ConditionId("0x" + digit * 64) for digit in "abc"]
    yes = [TokenId(str(n)) for n in (11, 21, 31)]
    no = [TokenId(str(n)) for n in (12, 22, 32)]
    ledger = Ledger(ACCOUNT)
    ledger.apply(deposit("100"))
    ledger.apply(buy("a-yes", "10", "0.5", token=yes[0], market=candidates[0]))
    ledger.apply(buy("b-yes", "10", "0.3", token=yes[1], market=candidates[1]))
    ledger.apply(buy("c-no", "10", "0.8", token=no[2], market=candidates[2], outcome_index=1))
    ledger.apply(resolved("1", "0", market=candidates[0]))  # candidate A wins
    ledger.apply(resolved("0", "1", market=candidates[1]))
    ledger.apply(resolved("0", "1", market=candidates[2]))
    paid = {market: ledger.claim_value(market) for market in candidates}
    assert paid == {
        candidates[0]: Usdc.parse("10"),
        candidates[1]: Usdc(0),
        candidates[2]: Usdc.parse("10"),
    }
    for number, market in enumerate(candidates):
        ledger.apply(redeemed(str(paid[market]), f"0x{number}", market=market))
        ledger.apply(redeemed(str(paid[market]), f"0xagain{number}", market=market))
    # paid 5 + 3 + 8 = 16, redeemed 10 + 0 + 10 = 20
    assert ledger.cash == Usdc.parse("104")
    assert ledger.totals.realized_pnl == Usdc.parse("4")
    assert ledger.open_cost == Usdc(0)


def test_the_venues_payout_is_booked_even_when_it_differs_from_the_claim() -> None:
    ledger = holding_yes_and_no()
    ledger.apply(resolved("0.5", "0.5"))
    booking = ledger.apply(redeemed("7.499999"))
    assert booking is not None
    assert sum(part.units for part in booking.allocations.values()) == Usdc.parse("7.499999").units
    assert ledger.cash == Usdc.parse("92.5") + Usdc.parse("7.499999")


def test_redeeming_before_the_resolution_is_booked_is_refused() -> None:
    ledger = holding_yes_and_no()
    with pytest.raises(LedgerError, match="book MarketResolved"):
        ledger.apply(redeemed("10"))


def test_a_payout_for_claims_worth_nothing_is_refused() -> None:
    ledger = holding_yes_and_no()
    ledger.apply(sell("y2", "10", "0.6", token=YES))  # only the NO (loser) is left
    ledger.apply(resolved("1", "0"))
    with pytest.raises(LedgerError, match="claims worth 0"):
        ledger.apply(redeemed("5"))


def test_redeeming_a_market_never_held_is_refused() -> None:
    ledger = holding_yes_and_no()
    other = ConditionId("0x" + "9" * 64)
    ledger.apply(resolved("1", "0", market=other))
    with pytest.raises(LedgerError, match="nothing to redeem"):
        ledger.apply(redeemed("1", market=other))


def test_a_different_resolution_of_a_resolved_market_is_an_error_the_same_one_a_no_op() -> None:
    ledger = holding_yes_and_no()
    ledger.apply(resolved("1", "0"))
    assert ledger.apply(resolved("1", "0", at_ms=9_999)) is None
    with pytest.raises(LedgerError, match="already booked"):
        ledger.apply(resolved("0", "1"))


def test_a_trade_booked_after_its_market_resolved_becomes_a_claim() -> None:
    ledger = Ledger(ACCOUNT)
    ledger.apply(deposit("100"))
    ledger.apply(resolved("0", "1"))
    ledger.apply(buy("late", "4", "0.5", token=NO))
    holding = ledger.holding(NO)
    assert holding is not None and holding.status is HoldingStatus.RESOLVED
    assert ledger.claim_value(MARKET) == Usdc.parse("4")


def test_a_redeemed_position_cannot_trade_again() -> None:
    ledger = holding_yes_and_no()
    ledger.apply(resolved("1", "0"))
    ledger.apply(redeemed("10"))
    with pytest.raises(LedgerError, match="already redeemed"):
        ledger.apply(buy("after", "1", "0.5", token=YES))


def test_a_repeat_report_is_recognised_when_only_an_emptied_position_is_left() -> None:
    ledger = holding_yes_and_no()
    ledger.apply(sell("n2", "5", "0.3", leader=BOB, token=NO))  # NO sold before resolution
    ledger.apply(resolved("1", "0"))
    ledger.apply(redeemed("10", "0xv2", outcome_index=0))
    cash = ledger.cash
    assert ledger.apply(redeemed("10", "0xwhole-condition-report")) is None
    assert ledger.cash == cash

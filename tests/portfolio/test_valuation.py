"""Valuation: equity and unrealized PnL from marks, resolved claims at their payout, and the
peaks and drawdowns the risk breakers read (per account and per leader)."""

from __future__ import annotations

from decimal import Decimal

from polytail.domain.money import Price, Usdc
from polytail.portfolio import Ledger, mark
from tests.ledger_events import ACCOUNT, ALICE, BOB, NO, YES, buy, deposit, resolved, withdraw


def book() -> Ledger:
    ledger = Ledger(ACCOUNT)
    ledger.apply(deposit("100"))
    ledger.apply(buy("a", "10", "0.5", leader=ALICE, token=YES))  # cost 5
    ledger.apply(buy("b", "10", "0.2", leader=BOB, token=NO))  # cost 2
    return ledger


def test_equity_is_cash_plus_marked_value_and_unrealized_is_value_minus_cost() -> None:
    valuation = mark(book(), {YES: Price.parse("0.55"), NO: Price.parse("0.15")}, at_ms=1)
    assert valuation.cash == Usdc.parse("93")
    assert valuation.market_value == Usdc.parse("7")  # 5.5 + 1.5
    assert valuation.unrealized_pnl == Usdc(0)
    assert valuation.equity == Usdc.parse("100")
    assert valuation.leaders[ALICE].unrealized_pnl == Usdc.parse("0.5")
    assert valuation.leaders[BOB].unrealized_pnl == Usdc.parse("-0.5")


def test_a_position_without_a_mark_is_valued_at_cost_and_reported() -> None:
    valuation = mark(book(), {YES: Price.parse("0.6")}, at_ms=1)
    assert valuation.unmarked == (NO,)
    assert valuation.leaders[BOB].unrealized_pnl == Usdc(0)
    assert valuation.unrealized_pnl == Usdc.parse("1")


def test_a_resolved_position_is_worth_its_claim_whatever_the_mark() -> None:
    ledger = book()
    ledger.apply(resolved("1", "0"))
    valuation = mark(ledger, {YES: Price.parse("0.01"), NO: Price.parse("0.99")}, at_ms=1)
    assert valuation.market_value == Usdc.parse("10")
    assert valuation.equity == Usdc.parse("103")


def test_drawdown_is_measured_from_the_peak_and_a_withdrawal_is_not_a_loss() -> None:
    ledger = book()
    high = mark(ledger, {YES: Price.parse("0.9"), NO: Price.parse("0.2")}, at_ms=1)
    assert high.equity == Usdc.parse("104") and high.peak_equity == Usdc.parse("104")
    low = mark(ledger, {YES: Price.parse("0.4"), NO: Price.parse("0.2")}, at_ms=2)
    assert low.drawdown == Usdc.parse("5")
    assert low.drawdown_pct == Decimal(500) / Decimal(104)
    ledger.apply(withdraw("50", "w1"))
    after = mark(ledger, {YES: Price.parse("0.4"), NO: Price.parse("0.2")}, at_ms=3)
    assert after.peak_equity == Usdc.parse("54")
    assert after.drawdown == Usdc.parse("5")  # the same loss, not 55


def test_each_leader_has_its_own_peak_and_drawdown() -> None:
    ledger = book()
    mark(ledger, {YES: Price.parse("0.8"), NO: Price.parse("0.2")}, at_ms=1)  # Alice +3
    later = mark(ledger, {YES: Price.parse("0.6"), NO: Price.parse("0.3")}, at_ms=2)
    assert later.leaders[ALICE].peak_pnl == Usdc.parse("3")
    assert later.leaders[ALICE].drawdown == Usdc.parse("2")
    assert later.leaders[BOB].drawdown == Usdc(0)  # at its high (+1)
    assert ledger.leader_pnl(BOB).peak_pnl == Usdc.parse("1")

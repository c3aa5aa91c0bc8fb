"""The ledger: cash and positions move exactly as the fills say, each event is booked once,
and money is conserved after every event (checked from scratch, violations raise)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings

from polytail.domain.ledger import (
    AccountTotals,
    Booking,
    HoldingStatus,
    LedgerEvent,
    LedgerSnapshot,
    utc_day,
)
from polytail.domain.money import Shares, Usdc
from polytail.portfolio import ConservationError, Ledger, LedgerError
from tests.ledger_events import (
    ACCOUNT,
    ALICE,
    BOB,
    DAY_MS,
    NO,
    YES,
    buy,
    deposit,
    event_sequences,
    redeemed,
    resolved,
    sell,
    with_claim_payout,
    withdraw,
)


def funded(amount: str = "1000") -> Ledger:
    ledger = Ledger(ACCOUNT)
    ledger.apply(deposit(amount))
    return ledger


def test_a_buy_moves_notional_and_fee_from_cash_into_the_cost_basis() -> None:
    ledger = funded()
    ledger.apply(buy("t1", "10", "0.4", fee="0.07"))
    holding = ledger.holding(YES)
    assert holding is not None
    assert ledger.cash == Usdc.parse("995.93")
    assert holding.position.cost == Usdc.parse("4.07")
    assert ledger.held_for(YES, ALICE) == Shares.parse("10")
    assert ledger.totals.fees_paid == Usdc.parse("0.07")
    assert ledger.open_cost == Usdc.parse("4.07")


def test_a_sell_realizes_pnl_net_of_both_fees_for_the_selling_leader() -> None:
    ledger = funded()
    ledger.apply(buy("t1", "10", "0.4", fee="0.1"))
    ledger.apply(sell("t2", "5", "0.6", fee="0.05"))
    # proceeds 3 - fee 0.05 - half the cost basis (4.1 / 2 = 2.05) = 0.9
    assert ledger.totals.realized_pnl == Usdc.parse("0.9")
    assert ledger.leader_pnl(ALICE).realized_pnl == Usdc.parse("0.9")
    assert ledger.cash == Usdc.parse("1000") - Usdc.parse("4.1") + Usdc.parse("2.95")
    assert ledger.held_for(YES, ALICE) == Shares.parse("5")


def test_booking_the_same_trade_twice_changes_nothing() -> None:
    ledger = funded()
    first = ledger.apply(buy("t1", "10", "0.4"))
    before = ledger.snapshot()
    assert first is not None
    assert ledger.apply(buy("t1", "10", "0.4")) is None
    assert ledger.has_trade("t1")
    assert ledger.snapshot() == before


def test_the_same_deposit_key_is_booked_once() -> None:
    ledger = funded("100")
    assert ledger.apply(deposit("100")) is None
    assert ledger.cash == Usdc.parse("100")


def test_exits_sell_only_the_selling_leaders_lot() -> None:
    ledger = funded()
    ledger.apply(buy("a1", "10", "0.5", leader=ALICE))
    ledger.apply(buy("b1", "4", "0.5", leader=BOB))
    with pytest.raises(LedgerError, match="only 4"):
        ledger.apply(sell("b2", "5", "0.6", leader=BOB))
    assert ledger.held_for(YES, BOB) == Shares.parse("4")
    assert ledger.held_for(YES, ALICE) == Shares.parse("10")


def test_a_refused_event_leaves_the_ledger_untouched() -> None:
    ledger = funded("10")
    before = ledger.snapshot()
    with pytest.raises(LedgerError, match="exceeds the cash"):
        ledger.apply(withdraw("10.000001", "w1"))
    with pytest.raises(LedgerError, match="only 0"):
        ledger.apply(sell("s1", "1", "0.5"))
    assert ledger.snapshot() == before


def test_a_trade_contradicting_the_known_outcome_of_a_token_is_refused() -> None:
    ledger = funded()
    ledger.apply(buy("t1", "1", "0.5", token=YES))
    with pytest.raises(LedgerError, match="outcome 0"):
        ledger.apply(buy("t2", "1", "0.5", token=YES, outcome_index=1))


def test_an_event_of_another_account_is_refused() -> None:
    ledger = funded()
    with pytest.raises(LedgerError, match="account"):
        ledger.apply(deposit("5", key="x", account="other"))  # type: ignore[arg-type]


def test_nothing_is_installed_when_persisting_fails() -> None:
    ledger = funded()
    before = ledger.snapshot()

    def broken_disk(_: Booking) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        ledger.apply(buy("t1", "10", "0.4"), persist=broken_disk)
    assert ledger.snapshot() == before
    assert ledger.apply(buy("t1", "10", "0.4")) is not None  # and it can be booked later


def test_the_persist_hook_sees_each_new_booking_once() -> None:
    seen: list[Booking] = []
    ledger = Ledger(ACCOUNT, persist=seen.append)
    ledger.apply(deposit("100"))
    ledger.apply(buy("t1", "10", "0.4"))
    ledger.apply(buy("t1", "10", "0.4"))
    assert [booking.seq for booking in seen] == [1, 2]
    assert seen[1].totals.cash == Usdc.parse("96")
    assert [holding.token_id for holding in seen[1].holdings] == [YES]


def test_a_booking_prepared_on_an_older_state_cannot_be_committed() -> None:
    ledger = funded()
    stale = ledger.prepare(buy("t1", "1", "0.5"))
    ledger.apply(buy("t2", "1", "0.5"))
    assert stale is not None
    with pytest.raises(LedgerError, match="prepare it again"):
        ledger.commit(stale)


def test_realized_pnl_is_kept_per_leader_per_utc_day() -> None:
    ledger = funded()
    ledger.apply(buy("a1", "10", "0.5", leader=ALICE, at_ms=DAY_MS - 10))
    ledger.apply(buy("b1", "10", "0.5", leader=BOB, at_ms=DAY_MS - 10))
    ledger.apply(sell("a2", "10", "0.3", leader=ALICE, at_ms=DAY_MS - 1))  # day 0: -2
    ledger.apply(sell("b2", "10", "0.6", leader=BOB, at_ms=DAY_MS))  # day 1: +1
    assert utc_day(DAY_MS - 1) == 0
    assert ledger.daily_realized(0, ALICE) == Usdc.parse("-2")
    assert ledger.daily_realized(1, BOB) == Usdc.parse("1")
    assert ledger.daily_realized(0) == Usdc.parse("-2")
    assert ledger.daily_realized(1, ALICE) == Usdc(0)


def test_restoring_a_snapshot_gives_the_same_ledger() -> None:
    ledger = funded()
    ledger.apply(buy("a1", "10", "0.5"))
    ledger.apply(buy("b1", "3", "0.5", leader=BOB, token=NO))
    ledger.apply(sell("a2", "4", "0.7"))
    restored = Ledger.restore(ledger.snapshot())
    assert restored.snapshot() == ledger.snapshot()
    assert restored.apply(buy("a1", "10", "0.5")) is None  # still knows what it booked


def test_restoring_a_state_that_does_not_balance_raises() -> None:
    ledger = funded()
    ledger.apply(buy("a1", "10", "0.5"))
    snapshot = ledger.snapshot()
    tampered = replace(snapshot, totals=replace(snapshot.totals, cash=Usdc.parse("996")))
    with pytest.raises(ConservationError, match="not conserved"):
        Ledger.restore(tampered)


def test_realized_pnl_not_attributed_to_any_leader_is_a_conservation_error() -> None:
    totals = AccountTotals(cash=Usdc.parse("5"), deposits=Usdc(0), realized_pnl=Usdc.parse("5"))
    with pytest.raises(ConservationError, match="leaders' realized"):
        Ledger.restore(LedgerSnapshot(account=ACCOUNT, seq=1, totals=totals))


def test_replaying_the_events_rebuilds_the_same_state() -> None:
    events = [
        deposit("50"),
        buy("a1", "10", "0.5", fee="0.01"),
        buy("b1", "6", "0.25", leader=BOB, token=NO),
        sell("a2", "4", "0.7"),
        resolved("1", "0"),
        redeemed("6"),
    ]
    ledger = Ledger(ACCOUNT)
    for event in events:
        ledger.apply(event)
    assert Ledger.replay(ACCOUNT, events).snapshot() == ledger.snapshot()


# --- the conservation property -------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(event_sequences())
def test_money_is_conserved_after_every_event_and_repeats_are_no_ops(
    events: list[LedgerEvent],
) -> None:
    """deposits - withdrawals + realized == cash + open cost, after every event; refused
    events (overselling, overdrawing, redeeming nothing) change nothing."""
    ledger = Ledger(ACCOUNT)
    paid_claims = 0
    for raw in events:
        event = with_claim_payout(ledger, raw)
        before = ledger.snapshot()
        try:
            booking = ledger.apply(event)
        except LedgerError:
            assert ledger.snapshot() == before
            continue
        if booking is None:
            assert ledger.snapshot() == before
        elif booking.allocations:
            paid_claims += 1
        ledger.check_conservation()
        totals = ledger.totals
        assert (
            totals.deposits - totals.withdrawals + totals.realized_pnl
            == totals.cash + ledger.open_cost
        )
    # every position is paid at most once: a redemption closes at least one position for good
    redeemed_positions = [
        holding
        for holding in ledger.holdings(open_only=False)
        if holding.status is HoldingStatus.REDEEMED
    ]
    assert paid_claims <= len(redeemed_positions) <= 2
    assert all(holding.position.is_flat for holding in redeemed_positions)

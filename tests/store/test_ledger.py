"""The ledger through the store, on SQLite and PostgreSQL: every booking is persisted with the
state it produced, a restart reloads exactly that state, a venue fill is booked once, and a
claim is paid once even by a second writer or a ledger that fell behind."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select

from polytail.domain.ids import AccountId, ConditionId, TokenId
from polytail.domain.ledger import Booking, HoldingStatus, LedgerEvent
from polytail.domain.money import Price, Usdc
from polytail.domain.orders import IllegalTransition, Order, OrderState
from polytail.portfolio import Ledger, LedgerError, mark
from polytail.store import DuplicateEvent, StaleLedger, Store
from polytail.store.schema import RedemptionRow, TradeRow
from tests.ledger_events import (
    ACCOUNT,
    ALICE,
    BOB,
    MARKET,
    NO,
    YES,
    buy,
    deposit,
    event_sequences,
    redeemed,
    resolved,
    sell,
    with_claim_payout,
)
from tests.store.test_orders import intent


def reload(store: Store, account: AccountId = ACCOUNT) -> Ledger:
    with store.read() as tx:
        return Ledger.restore(tx.ledger.load(account), persist=store.record)


def count(store: Store, model: type[TradeRow] | type[RedemptionRow]) -> int:
    with store.read() as tx:
        return int(
            tx.context.connection.execute(select(func.count()).select_from(model)).scalar_one()
        )


def busy_ledger(store: Store) -> Ledger:
    ledger = Ledger(ACCOUNT, persist=store.record)
    for event in [
        deposit("1000"),
        buy("a1", "10", "0.5", fee="0.02", leader=ALICE),
        buy("b1", "6", "0.25", leader=BOB, token=NO),
        sell("a2", "4", "0.7", leader=ALICE, at_ms=90_000_000),
        buy("b2", "2", "0.3", leader=BOB, token=NO),
    ]:
        ledger.apply(event)
    return ledger


def test_a_restart_reloads_exactly_the_booked_state(store: Store) -> None:
    ledger = busy_ledger(store)
    restarted = reload(store)
    assert restarted.snapshot() == ledger.snapshot()
    assert restarted.daily_realized(1, ALICE) == ledger.daily_realized(1, ALICE) != Usdc(0)


def test_the_service_views_read_totals_and_leader_pnl_without_loading_the_ledger(
    store: Store,
) -> None:
    ledger = busy_ledger(store)
    with store.read() as tx:
        assert tx.ledger.totals(ACCOUNT) == (ledger.seq, ledger.totals)
        assert tx.ledger.totals(AccountId("nobody")) is None
        assert tx.ledger.leaders(ACCOUNT) == ledger.leaders()
        assert tx.ledger.daily_realized(ACCOUNT, 1) == {ALICE: Usdc.parse("0.792")}


def test_replaying_the_stored_events_gives_the_stored_state(store: Store) -> None:
    ledger = busy_ledger(store)
    ledger.apply(resolved("0", "1"))
    ledger.apply(redeemed("8", "0xr"))
    with store.read() as tx:
        events = tx.ledger.events(ACCOUNT)
        stored = tx.ledger.load(ACCOUNT)
    assert Ledger.replay(ACCOUNT, events).snapshot() == stored == ledger.snapshot()


def test_current_positions_are_one_cheap_query(store: Store) -> None:
    ledger = busy_ledger(store)
    ledger.apply(sell("a3", "6", "0.5", leader=ALICE))  # YES is now flat
    with store.read() as tx:
        open_positions = tx.ledger.holdings(ACCOUNT)
        every = tx.ledger.holdings(ACCOUNT, open_only=False)
    assert [holding.token_id for holding in open_positions] == [NO]
    assert open_positions == ledger.holdings()
    assert [holding.token_id for holding in every] == [YES, NO]


def test_a_venue_fill_reported_twice_is_booked_once(store: Store) -> None:
    ledger = busy_ledger(store)
    assert ledger.apply(buy("a1", "10", "0.5", fee="0.02", leader=ALICE)) is None
    assert reload(store).apply(buy("a1", "10", "0.5", fee="0.02", leader=ALICE)) is None
    assert count(store, TradeRow) == 4
    with store.read() as tx:
        assert tx.ledger.has_trade(ACCOUNT, "a1")
        assert [fill.trade_id for fill in tx.ledger.trades(ACCOUNT, limit=2)] == ["b2", "a2"]


def test_a_second_writer_cannot_book_on_an_older_state(store: Store) -> None:
    first = busy_ledger(store)
    second = reload(store)  # another worker, or a process that restarted, has the same state
    first.apply(buy("x", "1", "0.5"))
    with pytest.raises(StaleLedger, match="reload the ledger"):
        second.apply(buy("x", "1", "0.5"))
    assert count(store, TradeRow) == 5
    assert reload(store).apply(buy("x", "1", "0.5")) is None  # after reloading: already booked


def test_the_database_refuses_an_event_it_already_holds(store: Store) -> None:
    ledger = busy_ledger(store)
    booking = ledger.prepare(buy("y", "1", "0.5"))
    assert booking is not None
    store.record(booking)  # persisted, but the process died before installing it
    with pytest.raises(StaleLedger):
        ledger.apply(buy("y", "1", "0.5"))
    forged = replace(booking, seq=booking.seq + 1)  # even with a sequence that fits
    with pytest.raises(DuplicateEvent, match="already in the database"):
        store.record(forged)
    assert reload(store).totals == booking.totals


def test_a_fill_and_its_order_update_commit_together(store: Store) -> None:
    """The order manager books a trade and moves its order in one transaction."""
    ledger = busy_ledger(store)
    pending = Order(intent=intent("lf1"), updated_at_ms=1)
    sent = pending.to(OrderState.SENT, at_ms=2)
    with store.transaction() as tx:
        tx.orders.create_intent(pending.intent)
        tx.orders.transition(pending, sent, source="send")
    matched = sent.to(OrderState.MATCHED, at_ms=3, filled=intent().size, filled_notional=Usdc(1))
    fill = buy("t-lf1", "20", "0.5", leader=ALICE)

    def persist_with_order(booking: Booking) -> None:
        with store.transaction() as tx:
            tx.ledger.record(booking)
            tx.orders.transition(pending, matched, source="user_ws")  # a bug: it is SENT

    with pytest.raises(IllegalTransition, match="PENDING -> MATCHED"):
        ledger.apply(fill, persist=persist_with_order)
    assert not ledger.has_trade("t-lf1")
    assert reload(store).snapshot() == ledger.snapshot()  # nothing of the trade was written

    def persist_properly(booking: Booking) -> None:
        with store.transaction() as tx:
            tx.ledger.record(booking)
            tx.orders.transition(sent, matched, source="user_ws")

    ledger.apply(fill, persist=persist_properly)
    with store.read() as tx:
        assert tx.orders.get(pending.client_id) == matched
        assert tx.ledger.has_trade(ACCOUNT, "t-lf1")


def test_peaks_survive_a_restart(store: Store) -> None:
    ledger = busy_ledger(store)
    valuation = mark(ledger, {YES: Price.parse("0.9"), NO: Price.parse("0.3")}, at_ms=5)
    with store.transaction() as tx:
        tx.ledger.save_peaks(
            ACCOUNT,
            valuation.peak_equity,
            {leader: ledger.leader_pnl(leader).peak_pnl for leader in valuation.leaders},
            at_ms=5,
        )
    restarted = reload(store)
    assert restarted.totals.peak_equity == valuation.peak_equity > Usdc.parse("1000")
    assert restarted.leader_pnl(ALICE).peak_pnl == ledger.leader_pnl(ALICE).peak_pnl


# --- redemption: paying twice is impossible ------------------------------------------------


def resolved_book(store: Store) -> Ledger:
    ledger = busy_ledger(store)
    ledger.apply(resolved("1", "0"))
    return ledger


def test_a_redemption_reported_twice_under_two_ids_is_paid_once(store: Store) -> None:
    ledger = resolved_book(store)
    claim = ledger.claim_value(MARKET)
    ledger.apply(redeemed(str(claim), "0xtx-from-our-redeem"))
    assert ledger.apply(redeemed(str(claim), "activity-row-of-the-same-redeem")) is None
    restarted = reload(store)
    assert restarted.apply(redeemed(str(claim), "0xauto-redeem-operator")) is None
    assert restarted.cash == ledger.cash
    with store.read() as tx:
        rows = tx.context.connection.execute(
            select(RedemptionRow.token_id, RedemptionRow.report_id)
        )
        assert sorted(rows) == [(YES, "0xtx-from-our-redeem"), (NO, "0xtx-from-our-redeem")]


def test_two_workers_holding_the_same_claim_cannot_both_book_its_payout(store: Store) -> None:
    worker_a = resolved_book(store)
    worker_b = reload(store)
    claim = str(worker_a.claim_value(MARKET))
    worker_a.apply(redeemed(claim, "0xa"))
    with pytest.raises(StaleLedger):
        worker_b.apply(redeemed(claim, "0xb"))
    assert reload(store).cash == worker_a.cash


def test_the_database_key_refuses_a_second_payout_of_a_redeemed_position(store: Store) -> None:
    """Even a booking that got past a ledger (a bug) cannot pay a redeemed position again."""
    ledger = resolved_book(store)
    first = ledger.apply(redeemed(str(ledger.claim_value(MARKET)), "0xa"))
    assert first is not None
    again = replace(
        first,
        event=redeemed(str(ledger.claim_value(MARKET)), "0xb"),
        seq=ledger.seq + 1,
        totals=replace(ledger.totals, cash=ledger.cash + Usdc.parse("10")),
    )
    with pytest.raises(DuplicateEvent):
        store.record(again)
    assert reload(store).cash == ledger.cash
    assert count(store, RedemptionRow) == 2


def test_v2_and_neg_risk_redemptions_are_stored_per_position(store: Store) -> None:
    ledger = busy_ledger(store)
    ledger.apply(resolved("0.5", "0.5"))
    ledger.apply(redeemed("3", "0xv2-yes", outcome_index=0))  # 6 YES held x 0.5
    ledger.apply(redeemed("4", "0xv2-no", outcome_index=1))  # 8 NO held x 0.5
    ledger.apply(redeemed("7", "0xv2-no", outcome_index=1))  # repeated report
    candidates = [ConditionId("0x" + digit * 64) for digit in "ab"]
    tokens = [TokenId("901"), TokenId("902")]
    for number, (market, token) in enumerate(zip(candidates, tokens, strict=True)):
        ledger.apply(buy(f"nr{number}", "10", "0.4", token=token, market=market))
    ledger.apply(resolved("1", "0", market=candidates[0]))  # the first candidate wins
    ledger.apply(resolved("0", "1", market=candidates[1]))
    for market in candidates:
        ledger.apply(redeemed(str(ledger.claim_value(market)), f"0x{market[2]}", market=market))
    restarted = reload(store)
    assert restarted.snapshot() == ledger.snapshot()
    paid = {
        holding.token_id: holding.redeemed_payout for holding in restarted.holdings(open_only=False)
    }
    assert paid == {
        YES: Usdc.parse("3"),
        NO: Usdc.parse("4"),
        tokens[0]: Usdc.parse("10"),
        tokens[1]: Usdc(0),
    }
    assert all(
        holding.status is HoldingStatus.REDEEMED for holding in restarted.holdings(open_only=False)
    )


# --- the conservation property, through the database -----------------------------------------

_accounts = itertools.count()


@settings(
    max_examples=12,
    deadline=None,
    # One store serves every example; each example books under a fresh account instead.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=event_sequences(account=AccountId("property")))
def test_random_event_sequences_persist_and_reload_to_a_balanced_identical_ledger(
    store: Store, data: list[LedgerEvent]
) -> None:
    account = AccountId(f"property-{next(_accounts)}")
    ledger = Ledger(account, persist=store.record)
    for raw in data:
        event = with_claim_payout(ledger, replace(raw, account=account))
        try:
            ledger.apply(event)
        except LedgerError:
            continue
    restarted = reload(store, account)  # Ledger.restore checks conservation on the stored state
    assert restarted.snapshot() == ledger.snapshot()
    with store.read() as tx:
        assert Ledger.replay(account, tx.ledger.events(account)).snapshot() == ledger.snapshot()

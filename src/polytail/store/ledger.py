"""The ledger's journal and its current state.

Design: every event is a row in its own typed table (`trades`, `cash_movements`,
`resolutions`, `redemptions`), keyed so that booking it twice is a unique-key conflict,
and numbered by the account's event sequence (`seq`). Next to the journal the current
state is kept materialised (`ledger_accounts`, `positions`, `position_lots`,
`leader_pnl`, `leader_daily_pnl`) and updated in the same transaction as the event row.
Reading current positions is therefore one indexed query, a restart loads the state
without replaying history, and the journal can still be replayed to audit the state
(`events` + `Ledger.replay`).

`record` refuses a booking whose event the database already holds (`DuplicateEvent`) or
that was prepared on an older state than the database's (`StaleLedger`, compare-and-set
on `ledger_accounts.seq`): the in-memory ledger is then behind and must be reloaded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, Address, ClientOrderId, ConditionId, TokenId
from polytail.domain.ledger import (
    AccountTotals,
    Booking,
    CashKind,
    CashMovement,
    Holding,
    HoldingStatus,
    LeaderPnl,
    LedgerEvent,
    LedgerSnapshot,
    MarketResolved,
    Redemption,
    TradeFill,
)
from polytail.domain.market import Resolution
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.positions import Lot, Position
from polytail.store.context import TxContext
from polytail.store.errors import DuplicateEvent, StaleLedger
from polytail.store.schema import (
    CashMovementRow,
    LeaderDailyPnlRow,
    LeaderPnlRow,
    LedgerAccountRow,
    PositionLotRow,
    PositionRow,
    RedemptionRow,
    ResolutionRow,
    TradeRow,
)
from polytail.store.sql import insert_if_absent, upsert

_ADVANCE_COLUMNS = (
    "seq",
    "cash",
    "deposits",
    "withdrawals",
    "realized_pnl",
    "fees_paid",
    "peak_equity",
    "updated_ms",
)
_ADVANCE = (
    update(LedgerAccountRow)
    .where(
        LedgerAccountRow.account == bindparam("at_account"),
        LedgerAccountRow.seq == bindparam("at_seq"),
    )
    .values({name: bindparam(f"new_{name}") for name in _ADVANCE_COLUMNS})
)
"""Compare-and-set of the account row, built once (compiled once per process)."""


def _totals_row(totals: AccountTotals) -> dict[str, int]:
    return {
        "cash": totals.cash.units,
        "deposits": totals.deposits.units,
        "withdrawals": totals.withdrawals.units,
        "realized_pnl": totals.realized_pnl.units,
        "fees_paid": totals.fees_paid.units,
        "peak_equity": totals.peak_equity.units,
    }


def _totals(row: Any) -> AccountTotals:
    return AccountTotals(
        cash=Usdc(row.cash),
        deposits=Usdc(row.deposits),
        withdrawals=Usdc(row.withdrawals),
        realized_pnl=Usdc(row.realized_pnl),
        fees_paid=Usdc(row.fees_paid),
        peak_equity=Usdc(row.peak_equity),
    )


def _payouts_text(resolution: Resolution) -> str:
    return json.dumps([str(payout) for payout in resolution.payouts])


def _resolution(row: Any) -> Resolution:
    return Resolution(tuple(Decimal(p) for p in json.loads(row.payouts)), row.resolved_at)


def _holding(row: Any, lots: Mapping[Address, Lot]) -> Holding:
    position = Position(
        account=AccountId(row.account),
        token_id=TokenId(row.token_id),
        condition_id=ConditionId(row.condition_id),
        outcome_index=row.outcome_index,
        lots=dict(lots),
        realized_pnl=Usdc(row.realized_pnl),
        fees_paid=Usdc(row.fees_paid),
    )
    return Holding(
        position=position,
        status=HoldingStatus(row.status),
        payout_per_share=None if row.payout_per_share is None else Decimal(row.payout_per_share),
        redeemed_payout=Usdc(row.redeemed_payout),
        opened_at_ms=row.opened_at_ms,
        updated_at_ms=row.updated_at_ms,
    )


def _trade(row: Any) -> TradeFill:
    return TradeFill(
        account=AccountId(row.account),
        trade_id=row.trade_id,
        side=Side(row.side),
        token_id=TokenId(row.token_id),
        condition_id=ConditionId(row.condition_id),
        outcome_index=row.outcome_index,
        leader=Address(row.leader),
        shares=Shares(row.shares),
        price=Price(row.price),
        notional=Usdc(row.notional),
        fee=Usdc(row.fee),
        at_ms=row.at_ms,
        client_id=None if row.client_id is None else ClientOrderId(row.client_id),
        venue_order_id=row.venue_order_id,
    )


class LedgerRepository:
    def __init__(self, context: TxContext) -> None:
        self._context = context
        self._connection = context.connection

    # --- writes -----------------------------------------------------------------------------
    def record(self, booking: Booking) -> None:
        """Persist one booking: its event row(s) and the state it produced, or refuse."""
        account, seq, event = booking.account, booking.seq, booking.event
        self._advance(booking)
        inserted = True
        match event:
            case CashMovement():
                inserted = insert_if_absent(
                    self._connection,
                    CashMovementRow,
                    {
                        "account": account,
                        "movement_key": event.key,
                        "seq": seq,
                        "kind": event.kind.value,
                        "amount": event.amount.units,
                        "note": event.note,
                        "at_ms": event.at_ms,
                    },
                )
            case TradeFill():
                inserted = insert_if_absent(
                    self._connection,
                    TradeRow,
                    {
                        "account": account,
                        "trade_id": event.trade_id,
                        "seq": seq,
                        "client_id": event.client_id,
                        "venue_order_id": event.venue_order_id,
                        "side": event.side.value,
                        "token_id": event.token_id,
                        "condition_id": event.condition_id,
                        "outcome_index": event.outcome_index,
                        "leader": event.leader,
                        "shares": event.shares.units,
                        "price": event.price.micros,
                        "notional": event.notional.units,
                        "fee": event.fee.units,
                        "at_ms": event.at_ms,
                    },
                )
            case MarketResolved():
                inserted = insert_if_absent(
                    self._connection,
                    ResolutionRow,
                    {
                        "account": account,
                        "condition_id": event.condition_id,
                        "seq": seq,
                        "payouts": _payouts_text(event.resolution),
                        "resolved_at": event.resolution.resolved_at,
                        "at_ms": event.at_ms,
                    },
                )
            case Redemption():
                indexes = {h.token_id: h.position.outcome_index for h in booking.holdings}
                inserted = all(
                    insert_if_absent(
                        self._connection,
                        RedemptionRow,
                        {
                            "account": account,
                            "token_id": token,
                            "seq": seq,
                            "condition_id": event.condition_id,
                            "outcome_index": indexes[token],
                            "claim_index": event.outcome_index,
                            "report_id": event.report_id,
                            "payout": paid.units,
                            "total_payout": event.payout.units,
                            "at_ms": event.at_ms,
                        },
                    )
                    for token, paid in sorted(booking.allocations.items())
                )
        if not inserted:
            self._context.refuse(
                DuplicateEvent(
                    f"{event.event_key} of account {account} is already in the database; "
                    "reload the ledger"
                )
            )
        self._save_holdings(booking)
        self._save_leaders(booking)

    def _advance(self, booking: Booking) -> None:
        """Move the account row to the booking's seq, only from the seq it was prepared on."""
        values = {**_totals_row(booking.totals), "updated_ms": booking.event.at_ms}
        if booking.seq == 1:
            moved = insert_if_absent(
                self._connection,
                LedgerAccountRow,
                {"account": booking.account, "seq": 1, **values},
            )
        else:
            parameters: dict[str, Any] = {f"new_{name}": value for name, value in values.items()}
            parameters.update(
                at_account=booking.account, at_seq=booking.seq - 1, new_seq=booking.seq
            )
            moved = self._connection.execute(_ADVANCE, parameters).rowcount == 1
        if not moved:
            self._context.refuse(
                StaleLedger(
                    f"ledger of {booking.account}: booking #{booking.seq} "
                    f"({booking.event.event_key}) was prepared on an older state than the "
                    "database's; reload the ledger"
                )
            )

    def _save_holdings(self, booking: Booking) -> None:
        if not booking.holdings:
            return
        positions: list[dict[str, Any]] = []
        lots: list[dict[str, Any]] = []
        for holding in booking.holdings:
            position = holding.position
            positions.append(
                {
                    "account": position.account,
                    "token_id": position.token_id,
                    "condition_id": position.condition_id,
                    "outcome_index": position.outcome_index,
                    "status": holding.status.value,
                    "payout_per_share": None
                    if holding.payout_per_share is None
                    else str(holding.payout_per_share),
                    "shares": position.shares.units,
                    "cost": position.cost.units,
                    "realized_pnl": position.realized_pnl.units,
                    "fees_paid": position.fees_paid.units,
                    "redeemed_payout": holding.redeemed_payout.units,
                    "opened_at_ms": holding.opened_at_ms,
                    "updated_at_ms": holding.updated_at_ms,
                    "seq": booking.seq,
                }
            )
            lots.extend(
                {
                    "account": position.account,
                    "token_id": position.token_id,
                    "leader": leader,
                    "shares": lot.shares.units,
                    "cost": lot.cost.units,
                }
                for leader, lot in sorted(position.lots.items())
            )
        upsert(self._connection, PositionRow, positions, keys=("account", "token_id"))
        upsert(self._connection, PositionLotRow, lots, keys=("account", "token_id", "leader"))

    def _save_leaders(self, booking: Booking) -> None:
        account = booking.account
        upsert(
            self._connection,
            LeaderPnlRow,
            [
                {
                    "account": account,
                    "leader": pnl.leader,
                    "realized_pnl": pnl.realized_pnl.units,
                    "peak_pnl": pnl.peak_pnl.units,
                }
                for pnl in booking.leaders
            ],
            keys=("account", "leader"),
        )
        upsert(
            self._connection,
            LeaderDailyPnlRow,
            [
                {"account": account, "leader": leader, "day": day, "realized_pnl": value.units}
                for (leader, day), value in sorted(booking.leader_days.items())
            ],
            keys=("account", "leader", "day"),
        )

    def save_peaks(
        self,
        account: AccountId,
        peak_equity: Usdc,
        leader_peaks: Mapping[Address, Usdc],
        *,
        at_ms: int,
    ) -> None:
        """Persist the highs a valuation reached (peaks are not events, so no seq moves)."""
        self._connection.execute(
            update(LedgerAccountRow)
            .where(LedgerAccountRow.account == account)
            .values(peak_equity=peak_equity.units, updated_ms=at_ms)
        )
        for leader, peak in sorted(leader_peaks.items()):
            statement = (
                update(LeaderPnlRow)
                .where(LeaderPnlRow.account == account, LeaderPnlRow.leader == leader)
                .values(peak_pnl=peak.units)
            )
            if self._connection.execute(statement).rowcount == 0:
                self._connection.execute(
                    insert(LeaderPnlRow).values(
                        account=account, leader=leader, realized_pnl=0, peak_pnl=peak.units
                    )
                )

    # --- reads ------------------------------------------------------------------------------
    def load(self, account: AccountId) -> LedgerSnapshot:
        """The account's whole ledger state (empty if it never booked anything)."""
        head = self._connection.execute(
            select(LedgerAccountRow).where(LedgerAccountRow.account == account)
        ).first()
        if head is None:
            return LedgerSnapshot(account=account)
        connection = self._connection
        trade_keys = connection.execute(
            select(TradeRow.trade_id).where(TradeRow.account == account)
        ).scalars()
        cash_keys = connection.execute(
            select(CashMovementRow.movement_key).where(CashMovementRow.account == account)
        ).scalars()
        resolutions = {
            ConditionId(row.condition_id): _resolution(row)
            for row in connection.execute(
                select(ResolutionRow).where(ResolutionRow.account == account)
            )
        }
        days = {
            (Address(row.leader), row.day): Usdc(row.realized_pnl)
            for row in connection.execute(
                select(LeaderDailyPnlRow)
                .where(LeaderDailyPnlRow.account == account)
                .order_by(LeaderDailyPnlRow.leader, LeaderDailyPnlRow.day)
            )
        }
        return LedgerSnapshot(
            account=account,
            seq=head.seq,
            totals=_totals(head),
            holdings=tuple(self.holdings(account, open_only=False)),
            leaders=tuple(self.leaders(account)),
            leader_days=days,
            resolutions=dict(sorted(resolutions.items())),
            event_keys=frozenset(
                [f"trade:{key}" for key in trade_keys] + [f"cash:{key}" for key in cash_keys]
            ),
        )

    def leaders(self, account: AccountId) -> list[LeaderPnl]:
        """Realized and peak PnL of every leader the account copied, by address."""
        query = select(LeaderPnlRow).where(LeaderPnlRow.account == account)
        return sorted(
            (
                LeaderPnl(Address(row.leader), Usdc(row.realized_pnl), Usdc(row.peak_pnl))
                for row in self._connection.execute(query)
            ),
            key=lambda pnl: pnl.leader,
        )

    def daily_realized(self, account: AccountId, day: int) -> dict[Address, Usdc]:
        """Realized PnL per leader on UTC day `day` (days since the epoch, `utc_day`)."""
        query = select(LeaderDailyPnlRow).where(
            LeaderDailyPnlRow.account == account, LeaderDailyPnlRow.day == day
        )
        return {
            Address(row.leader): Usdc(row.realized_pnl) for row in self._connection.execute(query)
        }

    def totals(self, account: AccountId) -> tuple[int, AccountTotals] | None:
        """(seq, totals) of the account, or None if it never booked anything."""
        row = self._connection.execute(
            select(LedgerAccountRow).where(LedgerAccountRow.account == account)
        ).first()
        return None if row is None else (row.seq, _totals(row))

    def holdings(self, account: AccountId, *, open_only: bool = True) -> list[Holding]:
        """Positions with their lots, by token id; only those with shares when `open_only`."""
        positions = select(PositionRow).where(PositionRow.account == account)
        lots = select(PositionLotRow).where(PositionLotRow.account == account)
        if open_only:
            positions = positions.where(PositionRow.shares > 0)
            lots = lots.join(
                PositionRow,
                (PositionRow.account == PositionLotRow.account)
                & (PositionRow.token_id == PositionLotRow.token_id),
            ).where(PositionRow.shares > 0)
        by_token: dict[str, dict[Address, Lot]] = {}
        for row in self._connection.execute(lots):
            by_token.setdefault(row.token_id, {})[Address(row.leader)] = Lot(
                Shares(row.shares), Usdc(row.cost)
            )
        holdings = [
            _holding(row, by_token.get(row.token_id, {}))
            for row in self._connection.execute(positions)
        ]
        return sorted(holdings, key=lambda holding: holding.token_id)  # as the ledger sorts

    def has_trade(self, account: AccountId, trade_id: str) -> bool:
        query = select(TradeRow.seq).where(
            TradeRow.account == account, TradeRow.trade_id == trade_id
        )
        return self._connection.execute(query).first() is not None

    def trades(self, account: AccountId, *, limit: int | None = None) -> list[TradeFill]:
        """Booked fills of our orders, newest first."""
        query = select(TradeRow).where(TradeRow.account == account).order_by(TradeRow.seq.desc())
        if limit is not None:
            query = query.limit(limit)
        return [_trade(row) for row in self._connection.execute(query)]

    def events(self, account: AccountId) -> list[LedgerEvent]:
        """Every booked event of the account in booking order, for `Ledger.replay`."""
        connection = self._connection
        numbered: list[tuple[int, LedgerEvent]] = [
            (row.seq, _trade(row))
            for row in connection.execute(select(TradeRow).where(TradeRow.account == account))
        ]
        numbered += [
            (
                row.seq,
                CashMovement(
                    account=account,
                    key=row.movement_key,
                    kind=CashKind(row.kind),
                    amount=Usdc(row.amount),
                    at_ms=row.at_ms,
                    note=row.note,
                ),
            )
            for row in connection.execute(
                select(CashMovementRow).where(CashMovementRow.account == account)
            )
        ]
        numbered += [
            (
                row.seq,
                MarketResolved(account, ConditionId(row.condition_id), _resolution(row), row.at_ms),
            )
            for row in connection.execute(
                select(ResolutionRow).where(ResolutionRow.account == account)
            )
        ]
        redeemed: dict[int, Redemption] = {}
        for row in connection.execute(
            select(RedemptionRow).where(RedemptionRow.account == account)
        ):
            redeemed[row.seq] = Redemption(
                account=account,
                condition_id=ConditionId(row.condition_id),
                outcome_index=row.claim_index,
                payout=Usdc(row.total_payout),
                report_id=row.report_id,
                at_ms=row.at_ms,
            )
        numbered += redeemed.items()
        numbered.sort(key=lambda item: item[0])
        return [event for _, event in numbered]

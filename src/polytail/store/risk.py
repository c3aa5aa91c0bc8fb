"""Risk state that must survive a restart, and below-minimum copy accumulators.

Losing breaker counters on restart is how a bot that "stopped for the day" starts trading
again after a crash. The policy owns what the entries mean; the store keeps them as
(scope, key) -> value text with an optional expiry, e.g.
`("breaker", "daily_loss") -> "tripped"`, `("cooldown", <leader>) -> ""` until a time,
`("paused", <leader>) -> <reason>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select

from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, Address, FillId, TokenId
from polytail.domain.money import Shares, Usdc
from polytail.store.context import TxContext
from polytail.store.schema import AccumulatorRow, RiskStateRow
from polytail.store.sql import upsert


@dataclass(frozen=True, slots=True)
class RiskEntry:
    account: AccountId
    scope: str
    key: str
    value: str
    until_ms: int | None
    updated_ms: int


def _entry(row: Any) -> RiskEntry:
    return RiskEntry(
        AccountId(row.account), row.scope, row.key, row.value, row.until_ms, row.updated_ms
    )


class RiskRepository:
    def __init__(self, context: TxContext) -> None:
        self._connection = context.connection

    def put(
        self,
        account: AccountId,
        scope: str,
        key: str,
        value: str,
        *,
        at_ms: int,
        until_ms: int | None = None,
    ) -> None:
        row = {
            "account": account,
            "scope": scope,
            "key": key,
            "value": value,
            "until_ms": until_ms,
            "updated_ms": at_ms,
        }
        upsert(self._connection, RiskStateRow, [row], keys=("account", "scope", "key"))

    def get(self, account: AccountId, scope: str, key: str) -> RiskEntry | None:
        query = select(RiskStateRow).where(
            RiskStateRow.account == account, RiskStateRow.scope == scope, RiskStateRow.key == key
        )
        row = self._connection.execute(query).first()
        return None if row is None else _entry(row)

    def active(
        self, account: AccountId, *, now_ms: int, scope: str | None = None
    ) -> list[RiskEntry]:
        """Entries without an expiry or expiring after `now_ms`, by scope and key."""
        query = select(RiskStateRow).where(
            RiskStateRow.account == account,
            or_(RiskStateRow.until_ms.is_(None), RiskStateRow.until_ms > now_ms),
        )
        if scope is not None:
            query = query.where(RiskStateRow.scope == scope)
        query = query.order_by(RiskStateRow.scope, RiskStateRow.key)
        return [_entry(row) for row in self._connection.execute(query)]

    def clear(self, account: AccountId, scope: str, key: str) -> bool:
        statement = delete(RiskStateRow).where(
            RiskStateRow.account == account, RiskStateRow.scope == scope, RiskStateRow.key == key
        )
        return self._connection.execute(statement).rowcount == 1


@dataclass(frozen=True, slots=True)
class Accumulation:
    """Copies too small to send, summed per (leader, outcome, side) until they are not."""

    account: AccountId
    leader: Address
    token_id: TokenId
    side: Side
    notional: Usdc
    shares: Shares
    fill_ids: tuple[FillId, ...]


class AccumulatorRepository:
    def __init__(self, context: TxContext) -> None:
        self._connection = context.connection

    def add(
        self,
        account: AccountId,
        leader: Address,
        token: TokenId,
        side: Side,
        *,
        fill_id: FillId,
        notional: Usdc,
        shares: Shares,
        at_ms: int,
    ) -> Accumulation:
        """Add one leader fill's too-small copy; a fill already added is not added again."""
        current = self.get(account, leader, token, side)
        if current is not None and fill_id in current.fill_ids:
            return current
        base = current or Accumulation(account, leader, token, side, Usdc(0), Shares(0), ())
        updated = Accumulation(
            account,
            leader,
            token,
            side,
            base.notional + notional,
            base.shares + shares,
            (*base.fill_ids, fill_id),
        )
        row = {
            "account": account,
            "leader": leader,
            "token_id": token,
            "side": side.value,
            "notional": updated.notional.units,
            "shares": updated.shares.units,
            "fill_ids": list(updated.fill_ids),
            "updated_ms": at_ms,
        }
        upsert(
            self._connection, AccumulatorRow, [row], keys=("account", "leader", "token_id", "side")
        )
        return updated

    def get(
        self, account: AccountId, leader: Address, token: TokenId, side: Side
    ) -> Accumulation | None:
        query = select(AccumulatorRow).where(
            AccumulatorRow.account == account,
            AccumulatorRow.leader == leader,
            AccumulatorRow.token_id == token,
            AccumulatorRow.side == side.value,
        )
        if self._connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._connection.execute(query).first()
        if row is None:
            return None
        return Accumulation(
            account,
            leader,
            token,
            side,
            Usdc(row.notional),
            Shares(row.shares),
            tuple(FillId(value) for value in row.fill_ids),
        )

    def take(
        self, account: AccountId, leader: Address, token: TokenId, side: Side
    ) -> Accumulation | None:
        """Remove and return the accumulation (in the transaction that writes its intent)."""
        current = self.get(account, leader, token, side)
        if current is not None:
            self._connection.execute(
                delete(AccumulatorRow).where(
                    AccumulatorRow.account == account,
                    AccumulatorRow.leader == leader,
                    AccumulatorRow.token_id == token,
                    AccumulatorRow.side == side.value,
                )
            )
        return current

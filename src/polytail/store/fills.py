"""Leader fills seen by the feeds, and the feeds' cursors.

`record` is the merger's durable seen-set: one atomic insert-if-absent per batch that
returns which fills are new, so two feeds racing on the same fill cannot both pass it on.
Save a feed's cursor in the same transaction as the fills it covers
(`with store.transaction() as tx: tx.fills.record(...); tx.cursors.save(...)`): after a
crash either both are there or neither, so the feed neither skips nor loses fills.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import exists, func, select, update

from polytail.domain.fills import FeedSource, LatencyStamps, LeaderFill, Role, Side
from polytail.domain.ids import AccountId, Address, ConditionId, FillId, TokenId, TxHash
from polytail.domain.money import Shares, Usdc
from polytail.store.context import TxContext
from polytail.store.schema import DecisionRow, FeedCursor, FillSeen
from polytail.store.sql import insert_many_if_absent, upsert

_BATCH: Final = 500  # rows per INSERT (well under SQLite's bound-parameter limit)


def _row(fill: LeaderFill, seen_at_ms: int) -> dict[str, Any]:
    return {
        "fill_id": fill.fill_id,
        "wallet": fill.wallet,
        "side": fill.side.value,
        "token_id": fill.token_id,
        "condition_id": fill.condition_id,
        "outcome_index": fill.outcome_index,
        "price": str(fill.price),
        "size": fill.size.units,
        "usdc": fill.usdc.units,
        "timestamp": fill.timestamp,
        "tx_hash": fill.tx_hash,
        "log_index": fill.log_index,
        "role": fill.role.value,
        "fee": None if fill.fee is None else fill.fee.units,
        "outcome": fill.outcome,
        "slug": fill.slug,
        "event_slug": fill.event_slug,
        "first_source": fill.source.value,
        "sources": fill.source.value,
        "venue_ms": fill.stamps.venue_ms,
        "first_seen_ms": seen_at_ms,
        "updated_ms": seen_at_ms,
    }


def _fill(row: Any) -> LeaderFill:
    return LeaderFill(
        fill_id=FillId(row.fill_id),
        wallet=Address(row.wallet),
        side=Side(row.side),
        token_id=TokenId(row.token_id),
        condition_id=None if row.condition_id is None else ConditionId(row.condition_id),
        outcome_index=row.outcome_index,
        price=Decimal(row.price),
        size=Shares(row.size),
        usdc=Usdc(row.usdc),
        timestamp=row.timestamp,
        tx_hash=None if row.tx_hash is None else TxHash(row.tx_hash),
        source=FeedSource(row.first_source),
        log_index=row.log_index,
        role=Role(row.role),
        fee=None if row.fee is None else Usdc(row.fee),
        outcome=row.outcome,
        slug=row.slug,
        event_slug=row.event_slug,
        stamps=LatencyStamps(venue_ms=row.venue_ms),
    )


class FillRepository:
    def __init__(self, context: TxContext) -> None:
        self._connection = context.connection

    def record(self, fills: Sequence[LeaderFill], *, seen_at_ms: int) -> list[FillId]:
        """Insert the fills not seen before; returns their ids, in input order.

        A fill id repeated within `fills` counts once (its first occurrence is stored).
        """
        unique: dict[FillId, LeaderFill] = {}
        for fill in fills:
            unique.setdefault(fill.fill_id, fill)
        rows = [_row(fill, seen_at_ms) for fill in unique.values()]
        inserted: set[str] = set()
        for start in range(0, len(rows), _BATCH):
            batch = rows[start : start + _BATCH]
            inserted |= insert_many_if_absent(self._connection, FillSeen, batch, "fill_id")
        return [fill_id for fill_id in unique if fill_id in inserted]

    def enrich(self, sighting: LeaderFill, *, at_ms: int) -> LeaderFill | None:
        """Fold a later sighting into the stored fill (gaps only; the first sighting wins).

        Returns the stored fill after enrichment, or None when the fill was never recorded.
        """
        query = select(FillSeen).where(FillSeen.fill_id == sighting.fill_id)
        if self._connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._connection.execute(query).first()
        if row is None:
            return None
        stored = _fill(row)
        enriched = stored.enriched_by(sighting)
        sources = sorted(set(row.sources.split(",")) | {sighting.source.value})
        if enriched != stored or ",".join(sources) != row.sources:
            values = _row(enriched, at_ms)
            for name in ("first_source", "first_seen_ms", "fill_id"):
                del values[name]
            values["sources"] = ",".join(sources)
            self._connection.execute(
                update(FillSeen).where(FillSeen.fill_id == sighting.fill_id).values(**values)
            )
        return enriched

    def get(self, fill_id: FillId) -> LeaderFill | None:
        row = self._connection.execute(select(FillSeen).where(FillSeen.fill_id == fill_id)).first()
        return None if row is None else _fill(row)

    def sources(self, fill_id: FillId) -> frozenset[FeedSource]:
        """The feeds that reported this fill (empty if never recorded)."""
        text = self._connection.execute(
            select(FillSeen.sources).where(FillSeen.fill_id == fill_id)
        ).scalar()
        return frozenset() if text is None else frozenset(map(FeedSource, text.split(",")))

    def in_transactions(
        self, tx_hashes: Iterable[TxHash]
    ) -> list[tuple[LeaderFill, frozenset[FeedSource]]]:
        """Every recorded fill of these transactions, with the feeds that saw each.

        The merger reconciles a transaction's fills per (wallet, outcome, side) against
        what it already passed on, so it reads them whole (indexed by `tx_hash`).
        """
        wanted = list(dict.fromkeys(tx_hashes))
        found: list[tuple[LeaderFill, frozenset[FeedSource]]] = []
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            query = select(FillSeen).where(FillSeen.tx_hash.in_(batch)).order_by(FillSeen.fill_id)
            for row in self._connection.execute(query):
                found.append((_fill(row), frozenset(map(FeedSource, row.sources.split(",")))))
        return found

    def has(self, fill_id: FillId) -> bool:
        return bool(self.known([fill_id]))

    def known(self, fill_ids: Iterable[FillId]) -> set[FillId]:
        """Which of these fills are recorded (the merger's check beyond its memory)."""
        wanted = list(dict.fromkeys(fill_ids))
        found: set[FillId] = set()
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            query = select(FillSeen.fill_id).where(FillSeen.fill_id.in_(batch))
            found.update(FillId(value) for value in self._connection.execute(query).scalars())
        return found

    def undecided(
        self, account: AccountId, *, since_ms: int, limit: int = 10_000
    ) -> list[LeaderFill]:
        """Fills recorded since `since_ms` that `account` has no decision about, oldest first.

        The merger records a fill before it hands it out, so a crash in between leaves it
        recorded and never handed out again: the engine takes these at start-up.
        """
        decided = exists().where(
            DecisionRow.account == account, DecisionRow.fill_id == FillSeen.fill_id
        )
        query = (
            select(FillSeen)
            .where(FillSeen.first_seen_ms >= since_ms, ~decided)
            .order_by(FillSeen.timestamp, FillSeen.first_seen_ms, FillSeen.fill_id)
            .limit(limit)
        )
        return [_fill(row) for row in self._connection.execute(query)]

    def labels(self, tokens: Iterable[TokenId]) -> dict[TokenId, tuple[str, str]]:
        """(market slug, outcome name) of each token, as the leader fills reported them."""
        wanted = list(dict.fromkeys(tokens))
        found: dict[TokenId, tuple[str, str]] = {}
        for start in range(0, len(wanted), _BATCH):
            query = (
                select(FillSeen.token_id, FillSeen.slug, FillSeen.outcome)
                .where(FillSeen.token_id.in_(wanted[start : start + _BATCH]))
                .order_by(FillSeen.first_seen_ms.desc())
            )
            for row in self._connection.execute(query):
                token = TokenId(row.token_id)
                if token not in found or not found[token][0]:
                    found[token] = (row.slug, row.outcome)
        return found

    def last_seen(self, wallets: Iterable[Address]) -> dict[Address, int]:
        """The newest fill's venue time (Unix s) of each wallet that has one."""
        query = (
            select(FillSeen.wallet, func.max(FillSeen.timestamp))
            .where(FillSeen.wallet.in_(list(wallets)))
            .group_by(FillSeen.wallet)
        )
        return {Address(wallet): int(at) for wallet, at in self._connection.execute(query)}

    def count_seen(self, *, since_ms: int, until_ms: int) -> int:
        """Fills first recorded in [since_ms, until_ms)."""
        query = select(func.count()).where(
            FillSeen.first_seen_ms >= since_ms, FillSeen.first_seen_ms < until_ms
        )
        return int(self._connection.execute(query).scalar() or 0)

    def recent(self, *, wallet: Address | None = None, limit: int = 100) -> list[LeaderFill]:
        """The newest fills by venue time, optionally of one wallet."""
        query = select(FillSeen).order_by(FillSeen.timestamp.desc(), FillSeen.fill_id)
        if wallet is not None:
            query = query.where(FillSeen.wallet == wallet)
        return [_fill(row) for row in self._connection.execute(query.limit(limit))]


class CursorRepository:
    def __init__(self, context: TxContext) -> None:
        self._connection = context.connection

    def save(self, feed: str, key: str, value: str, *, at_ms: int) -> None:
        row = {"feed": feed, "key": key, "value": value, "updated_ms": at_ms}
        upsert(self._connection, FeedCursor, [row], keys=("feed", "key"))

    def load(self, feed: str, key: str) -> str | None:
        query = select(FeedCursor.value).where(FeedCursor.feed == feed, FeedCursor.key == key)
        return self._connection.execute(query).scalar()

    def load_all(self, feed: str) -> dict[str, str]:
        query = select(FeedCursor.key, FeedCursor.value).where(FeedCursor.feed == feed)
        return {row.key: row.value for row in self._connection.execute(query)}

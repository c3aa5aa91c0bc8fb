"""The ledger of one follower account: cash, positions per outcome with lots per leader,
fees, realized PnL, resolution claims and redemptions.

Why it is built this way:

- **Idempotent.** Every event has a key (`domain.ledger`); applying an event whose key is
  already booked returns None and changes nothing. A trade reported by the user channel
  and again by polling, or a redemption reported twice under two ids, is booked once.
- **Two-phase.** `prepare` computes the state an event would produce without touching the
  ledger; `commit` installs it. `apply` runs both with an optional `persist` hook in
  between, so the store can write the booking in one transaction and the in-memory state
  changes only once that succeeded. Nothing is half-applied when the write fails.
- **Checked.** Before any booking is handed out, the money is counted again from scratch:
  `deposits - withdrawals + realized PnL == cash + open cost basis`, and the per-leader
  realized PnL sums to the account's. A violation raises `ConservationError`: it is a bug,
  and correcting it silently would hide where money went.

Not thread-safe: call it from one task (the engine's event loop), as the order manager does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, Address, ConditionId, TokenId
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
    utc_day,
)
from polytail.domain.market import MarketError, Resolution
from polytail.domain.money import Rounding, Shares, Usdc
from polytail.domain.positions import InsufficientShares, Position

Persist = Callable[[Booking], object]
"""Writes a booking durably or raises; called between prepare and commit."""


class LedgerError(ValueError):
    """An event cannot be booked as given; the message names the event and the reason."""


class ConservationError(LedgerError):
    """Money was created or destroyed: a bug in the ledger or in the data it was restored from."""


class Ledger:
    def __init__(self, account: AccountId, *, persist: Persist | None = None) -> None:
        self._account = account
        self._persist = persist
        self._seq = 0
        self._totals = AccountTotals()
        self._holdings: dict[TokenId, Holding] = {}
        self._open: dict[TokenId, int] = {}  # holdings with shares -> their cost basis units
        self._by_condition: dict[ConditionId, set[TokenId]] = {}
        self._resolutions: dict[ConditionId, Resolution] = {}
        self._keys: set[str] = set()
        self._leaders: dict[Address, LeaderPnl] = {}
        self._days: dict[tuple[Address, int], Usdc] = {}

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def restore(cls, snapshot: LedgerSnapshot, *, persist: Persist | None = None) -> Ledger:
        """A ledger in the state of `snapshot`, checked for conservation before use."""
        ledger = cls(snapshot.account, persist=persist)
        ledger._seq = snapshot.seq
        ledger._totals = snapshot.totals
        for holding in snapshot.holdings:
            ledger._install(holding)
        ledger._resolutions = dict(snapshot.resolutions)
        ledger._keys = set(snapshot.event_keys)
        ledger._leaders = {pnl.leader: pnl for pnl in snapshot.leaders}
        ledger._days = dict(snapshot.leader_days)
        ledger.check_conservation()
        return ledger

    @classmethod
    def replay(cls, account: AccountId, events: Iterable[LedgerEvent]) -> Ledger:
        """A ledger rebuilt from its events in booking order (an audit of a saved state)."""
        ledger = cls(account)
        for event in events:
            ledger.apply(event)
        return ledger

    def snapshot(self) -> LedgerSnapshot:
        return LedgerSnapshot(
            account=self._account,
            seq=self._seq,
            totals=self._totals,
            holdings=tuple(self._holdings[token] for token in sorted(self._holdings)),
            leaders=tuple(self._leaders[leader] for leader in sorted(self._leaders)),
            leader_days=dict(sorted(self._days.items())),
            resolutions=dict(sorted(self._resolutions.items())),
            event_keys=frozenset(self._keys),
        )

    # --- booking ----------------------------------------------------------------------------
    def apply(self, event: LedgerEvent, *, persist: Persist | None = None) -> Booking | None:
        """Book `event`; None when it was already booked.

        `persist` (or the ledger's default) runs between computing and installing the new
        state: if it raises, the ledger is unchanged and the error propagates.
        """
        booking = self.prepare(event)
        if booking is None:
            return None
        writer = persist if persist is not None else self._persist
        if writer is not None:
            writer(booking)
        self.commit(booking)
        return booking

    def prepare(self, event: LedgerEvent) -> Booking | None:
        """The booking `event` would produce, or None if it is already booked. Pure."""
        if event.account != self._account:
            raise LedgerError(
                f"{event.event_key}: event of account {event.account!r} "
                f"given to the ledger of {self._account!r}"
            )
        match event:
            case CashMovement():
                booking = self._cash(event)
            case TradeFill():
                booking = self._trade(event)
            case MarketResolved():
                booking = self._resolution(event)
            case Redemption():
                booking = self._redemption(event)
        if booking is not None:
            self._check(booking)
        return booking

    def commit(self, booking: Booking) -> None:
        """Install a booking made by `prepare` on the current state."""
        if booking.account != self._account or booking.seq != self._seq + 1:
            raise LedgerError(
                f"{booking.event.event_key}: booking #{booking.seq} was prepared on another "
                f"state (ledger is at #{self._seq}); prepare it again"
            )
        event = booking.event
        if isinstance(event, CashMovement | TradeFill):
            self._keys.add(event.event_key)
        elif isinstance(event, MarketResolved):
            self._resolutions[event.condition_id] = event.resolution
        for holding in booking.holdings:
            self._install(holding)
        for pnl in booking.leaders:
            self._leaders[pnl.leader] = pnl
        self._days.update(booking.leader_days)
        self._totals = booking.totals
        self._seq = booking.seq

    # --- events -----------------------------------------------------------------------------
    def _cash(self, event: CashMovement) -> Booking | None:
        if event.event_key in self._keys:
            return None
        totals = self._totals
        if event.kind is CashKind.DEPOSIT:
            totals = replace(
                totals,
                cash=totals.cash + event.amount,
                deposits=totals.deposits + event.amount,
                # A deposit is not a gain: the peak moves with it, so drawdown stays honest.
                peak_equity=totals.peak_equity + event.amount,
            )
        else:
            if event.amount > totals.cash:
                raise LedgerError(
                    f"{event.event_key}: withdrawal of {event.amount} pUSD exceeds the "
                    f"cash of {totals.cash} pUSD"
                )
            totals = replace(
                totals,
                cash=totals.cash - event.amount,
                withdrawals=totals.withdrawals + event.amount,
                peak_equity=(totals.peak_equity - event.amount).max(Usdc(0)),
            )
        return Booking(event=event, seq=self._seq + 1, totals=totals)

    def _trade(self, event: TradeFill) -> Booking | None:
        if event.event_key in self._keys:
            return None
        holding = self._holdings.get(event.token_id)
        if holding is None:
            holding = Holding(
                Position(self._account, event.token_id, event.condition_id, event.outcome_index),
                opened_at_ms=event.at_ms,
            )
        elif (holding.condition_id, holding.position.outcome_index) != (
            event.condition_id,
            event.outcome_index,
        ):
            raise LedgerError(
                f"{event.event_key}: token {event.token_id} is outcome "
                f"{holding.position.outcome_index} of {holding.condition_id}, the trade says "
                f"outcome {event.outcome_index} of {event.condition_id}"
            )
        if holding.status is HoldingStatus.REDEEMED:
            raise LedgerError(f"{event.event_key}: token {event.token_id} was already redeemed")
        totals = self._totals
        realized: dict[Address, Usdc] = {}
        if event.side is Side.BUY:
            position = holding.position.bought(
                event.leader, event.shares, event.notional, event.fee
            )
            cash = totals.cash - event.notional - event.fee
        else:
            try:
                position, gain = holding.position.sold(
                    event.leader, event.shares, event.notional, event.fee
                )
            except InsufficientShares as error:
                raise LedgerError(f"{event.event_key}: {error}") from error
            cash = totals.cash + event.notional - event.fee
            realized[event.leader] = gain
        holding = replace(holding, position=position, updated_at_ms=event.at_ms)
        resolution = self._resolutions.get(event.condition_id)
        if resolution is not None and holding.status is HoldingStatus.OPEN:
            # A trade booked late (found at reconciliation) on a market that resolved since.
            holding = self._resolved(holding, resolution, event.event_key)
        totals = replace(totals, cash=cash, fees_paid=totals.fees_paid + event.fee)
        return self._booking(event, totals, (holding,), realized)

    def _resolution(self, event: MarketResolved) -> Booking | None:
        known = self._resolutions.get(event.condition_id)
        if known is not None:
            if known.payouts == event.resolution.payouts:
                return None
            raise LedgerError(
                f"{event.event_key}: resolved again with payouts "
                f"{_payouts(event.resolution)}, already booked as {_payouts(known)}"
            )
        touched = tuple(
            self._resolved(self._holdings[token], event.resolution, event.event_key, event.at_ms)
            for token in sorted(self._by_condition.get(event.condition_id, ()))
            if self._holdings[token].status is HoldingStatus.OPEN
        )
        return Booking(event=event, seq=self._seq + 1, totals=self._totals, holdings=touched)

    def _redemption(self, event: Redemption) -> Booking | None:
        key = event.event_key
        resolution = self._resolutions.get(event.condition_id)
        if resolution is None:
            raise LedgerError(
                f"{key}: no resolution booked for {event.condition_id}; book MarketResolved "
                "before redeeming"
            )
        in_claim = [
            self._holdings[token]
            for token in sorted(self._by_condition.get(event.condition_id, ()))
            if event.outcome_index is None
            or self._holdings[token].position.outcome_index == event.outcome_index
        ]
        claims = [holding for holding in in_claim if holding.status is HoldingStatus.RESOLVED]
        paid_before = any(holding.status is HoldingStatus.REDEEMED for holding in in_claim)
        if paid_before and all(holding.position.is_flat for holding in claims):
            return None  # already paid: a repeated report, whatever its id
        if not claims:
            raise LedgerError(f"{key}: nothing to redeem, no position in this claim")
        allocations = _allocate(event.payout, claims, key)
        touched: list[Holding] = []
        realized: dict[Address, Usdc] = {}
        for holding in claims:
            paid = allocations[holding.token_id]
            position, gains = holding.position.redeemed(paid)
            for leader, gain in gains.items():
                realized[leader] = realized.get(leader, Usdc(0)) + gain
            touched.append(
                replace(
                    holding,
                    position=position,
                    status=HoldingStatus.REDEEMED,
                    redeemed_payout=paid,
                    updated_at_ms=event.at_ms,
                )
            )
        totals = replace(self._totals, cash=self._totals.cash + event.payout)
        return self._booking(event, totals, tuple(touched), realized, allocations)

    # --- helpers ----------------------------------------------------------------------------
    def _booking(
        self,
        event: LedgerEvent,
        totals: AccountTotals,
        holdings: tuple[Holding, ...],
        realized: Mapping[Address, Usdc],
        allocations: Mapping[TokenId, Usdc] | None = None,
    ) -> Booking:
        """Fold this event's realized PnL into the account, its leaders and their UTC day."""
        total = sum((gain.units for gain in realized.values()), 0)
        totals = replace(totals, realized_pnl=totals.realized_pnl + Usdc(total))
        day = utc_day(event.at_ms)
        leaders = []
        days: dict[tuple[Address, int], Usdc] = {}
        for leader, gain in sorted(realized.items()):
            current = self._leaders.get(leader, LeaderPnl(leader))
            leaders.append(replace(current, realized_pnl=current.realized_pnl + gain))
            days[(leader, day)] = self._days.get((leader, day), Usdc(0)) + gain
        return Booking(
            event=event,
            seq=self._seq + 1,
            totals=totals,
            holdings=holdings,
            leaders=tuple(leaders),
            leader_days=days,
            realized=dict(realized),
            allocations=dict(allocations or {}),
        )

    @staticmethod
    def _resolved(
        holding: Holding, resolution: Resolution, key: str, at_ms: int | None = None
    ) -> Holding:
        try:
            payout = resolution.payout_per_share(holding.position.outcome_index)
        except MarketError as error:
            raise LedgerError(f"{key}: {error} (token {holding.token_id})") from error
        return replace(
            holding,
            status=HoldingStatus.RESOLVED,
            payout_per_share=payout,
            updated_at_ms=holding.updated_at_ms if at_ms is None else at_ms,
        )

    def _install(self, holding: Holding) -> None:
        token = holding.token_id
        self._holdings[token] = holding
        self._by_condition.setdefault(holding.condition_id, set()).add(token)
        if holding.position.is_flat:
            self._open.pop(token, None)
        else:
            self._open[token] = _cost_units(holding)

    def _check(self, booking: Booking) -> None:
        """Count the money of the state `booking` would leave: every open position's cost
        basis (each computed from its lots when it was last changed) plus cash."""
        open_cost = sum(self._open.values())
        for holding in booking.holdings:
            open_cost += _cost_units(holding) - self._open.get(holding.token_id, 0)
        leaders = self._leaders
        if booking.leaders:
            leaders = {**leaders, **{pnl.leader: pnl for pnl in booking.leaders}}
        _check_money(booking.totals, open_cost, leaders.values(), booking.event.event_key)

    def check_conservation(self) -> None:
        """Raise `ConservationError` unless the current state balances (counted from the lots)."""
        open_cost = sum(_cost_units(holding) for holding in self._holdings.values())
        _check_money(self._totals, open_cost, self._leaders.values(), f"ledger {self._account}")

    # --- reading ----------------------------------------------------------------------------
    @property
    def account(self) -> AccountId:
        return self._account

    @property
    def seq(self) -> int:
        """How many events are booked (the sequence number of the last one)."""
        return self._seq

    @property
    def totals(self) -> AccountTotals:
        return self._totals

    @property
    def cash(self) -> Usdc:
        return self._totals.cash

    @property
    def open_cost(self) -> Usdc:
        return Usdc(sum(self._open.values()))

    def has_trade(self, trade_id: str) -> bool:
        """Whether a fill with this venue (or paper) trade id is booked."""
        return f"trade:{trade_id}" in self._keys

    def holding(self, token: TokenId) -> Holding | None:
        return self._holdings.get(token)

    def holdings(self, *, open_only: bool = True) -> list[Holding]:
        """Holdings with shares (`open_only`), or every holding ever booked, by token id."""
        tokens = self._open if open_only else self._holdings.keys()
        return [self._holdings[token] for token in sorted(tokens)]

    def held_for(self, token: TokenId, leader: Address) -> Shares:
        """Shares of `token` bought copying `leader` and still held (what a mirror exit sells)."""
        holding = self._holdings.get(token)
        return Shares(0) if holding is None else holding.position.held_for(leader)

    def resolution(self, condition: ConditionId) -> Resolution | None:
        return self._resolutions.get(condition)

    def redeemable(self) -> list[Holding]:
        """Resolved positions with shares still to redeem (their claim may be worth 0)."""
        return [
            holding
            for holding in self.holdings()
            if holding.status is HoldingStatus.RESOLVED and not holding.position.is_flat
        ]

    def claim_value(self, condition: ConditionId, outcome_index: int | None = None) -> Usdc:
        """What redeeming this claim pays by the booked resolution (paper books exactly this)."""
        total = 0
        for token in self._by_condition.get(condition, ()):
            holding = self._holdings[token]
            if outcome_index is None or holding.position.outcome_index == outcome_index:
                total += holding.claim_value.units
        return Usdc(total)

    def leader_pnl(self, leader: Address) -> LeaderPnl:
        return self._leaders.get(leader, LeaderPnl(leader))

    def leaders(self) -> list[LeaderPnl]:
        return [self._leaders[leader] for leader in sorted(self._leaders)]

    def daily_realized(self, day: int, leader: Address | None = None) -> Usdc:
        """Realized PnL booked on UTC day `day` (see `utc_day`), for one leader or all."""
        if leader is not None:
            return self._days.get((leader, day), Usdc(0))
        return Usdc(sum(value.units for (_, when), value in self._days.items() if when == day))

    def raise_peaks(self, equity: Usdc, leader_pnl: Mapping[Address, Usdc]) -> None:
        """Record new highs of equity and of each leader's PnL (valuation calls this)."""
        if equity > self._totals.peak_equity:
            self._totals = replace(self._totals, peak_equity=equity)
        for leader, pnl in leader_pnl.items():
            current = self._leaders.get(leader, LeaderPnl(leader))
            if pnl > current.peak_pnl:
                self._leaders[leader] = replace(current, peak_pnl=pnl)


def _cost_units(holding: Holding) -> int:
    return sum(lot.cost.units for lot in holding.position.lots.values())


def _payouts(resolution: Resolution) -> str:
    return "(" + ", ".join(str(payout) for payout in resolution.payouts) + ")"


def _allocate(payout: Usdc, claims: list[Holding], key: str) -> dict[TokenId, Usdc]:
    """Split a redemption's payout across the positions it closed, to the base unit.

    Each position gets its share in proportion to its claim value; when the venue paid
    exactly the claim values (the normal case) each gets exactly its own. The remainder of
    the integer split goes to the largest claim, so the parts always sum to the payout.
    """
    values = {holding.token_id: holding.claim_value.units for holding in claims}
    total = sum(values.values())
    if total == 0:
        if payout.units:
            raise LedgerError(
                f"{key}: the venue paid {payout} pUSD for claims worth 0 by the booked "
                "resolution; check the resolution before booking this redemption"
            )
        return {token: Usdc(0) for token in values}
    if payout.units == total:
        return {token: Usdc(value) for token, value in values.items()}
    parts = {
        token: Usdc(value).scale(payout.units, total, Rounding.DOWN)
        for token, value in values.items()
    }
    largest = max(values, key=lambda token: (values[token], token))
    rest = payout.units - sum(part.units for part in parts.values())
    parts[largest] = parts[largest] + Usdc(rest)
    return parts


def _check_money(
    totals: AccountTotals, open_cost: int, leaders: Iterable[LeaderPnl], where: str
) -> None:
    contributed = totals.deposits.units - totals.withdrawals.units + totals.realized_pnl.units
    held = totals.cash.units + open_cost
    if contributed != held:
        raise ConservationError(
            f"{where}: money not conserved: deposits - withdrawals + realized = {contributed} "
            f"units, cash + open cost = {held} units (cash {totals.cash.units}, open cost "
            f"{open_cost})"
        )
    attributed = sum(pnl.realized_pnl.units for pnl in leaders)
    if attributed != totals.realized_pnl.units:
        raise ConservationError(
            f"{where}: realized PnL {totals.realized_pnl.units} units, but the leaders' "
            f"realized PnL sums to {attributed}"
        )

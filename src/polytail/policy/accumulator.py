"""Copies too small for the venue, accumulated per leader and outcome until they are not.

With `sizing.below_minimum = "accumulate"`, a copy sized below the venue minimum is not
sent: its amount (pUSD for buys, shares for mirror sells) is added to the pending entry
of its (outcome, leader). The first copy that brings the entry to the minimum is sent
for the whole amount, and the entry is consumed by that decision whatever it turns out
to be (a risk check may still stop it: amounts never wait out a breaker to be sent all
at once later).

An entry expires `sizing.accumulate_window_s` after its first contribution, so a trickle
of dust never turns into a copy of a stale signal. A leader fill in the opposite
direction clears the other side's amount (a leader that sells has voided its earlier
small buys, and one that buys back its earlier small sells).

The accumulator is plain immutable state passed into `Policy.decide` and returned
updated, so decisions stay pure and a backtest replays them exactly. The engine keeps
the latest one per account (and may persist it); `Policy.expire_pending` drops expired
entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from immutables import Map

from polytail.domain.ids import Address, TokenId
from polytail.domain.money import Shares, Usdc

PendingKey = tuple[TokenId, Address]


@dataclass(frozen=True, slots=True)
class Pending:
    """Accumulated amounts of one (outcome, leader)."""

    buy: Usdc
    sell: Shares
    since_ms: int
    fills: int

    def expired(self, now_ms: int, window_ms: int) -> bool:
        return now_ms - self.since_ms >= window_ms


class Accumulator:
    """Immutable map of pending amounts; every change returns a new accumulator."""

    __slots__ = ("_entries",)
    _entries: Map[PendingKey, Pending]

    def __init__(self, entries: Map[PendingKey, Pending] | None = None) -> None:
        self._entries = Map() if entries is None else entries

    def get(self, token: TokenId, leader: Address) -> Pending | None:
        return self._entries.get((token, leader))

    def set(self, token: TokenId, leader: Address, pending: Pending) -> Accumulator:
        return Accumulator(self._entries.set((token, leader), pending))

    def discard(self, token: TokenId, leader: Address) -> Accumulator:
        key = (token, leader)
        return Accumulator(self._entries.delete(key)) if key in self._entries else self

    def items(self) -> Iterator[tuple[PendingKey, Pending]]:
        return iter(self._entries.items())

    def __len__(self) -> int:
        return len(self._entries)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Accumulator):
            return NotImplemented
        return self._entries == other._entries

    def __hash__(self) -> int:
        return hash(self._entries)

    def __repr__(self) -> str:
        return f"Accumulator({dict(self._entries.items())!r})"

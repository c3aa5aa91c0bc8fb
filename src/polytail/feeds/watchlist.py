"""The set of watched wallets, changed at runtime without restarting anything.

The stream filter reads `live` on every frame: one lookup in a plain `set`, so its cost
does not grow with the watch list. `update` edits that same set in place (a config hot
reload calls it), and the feeds that keep per-wallet state (the poller's schedule)
subscribe to the changes. Everything runs on one event loop, so no lock is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from polytail.config.schema import PolytailConfig
from polytail.domain.ids import Address, IdError, address

Listener = Callable[["WatchChange"], None]


@dataclass(frozen=True, slots=True)
class WatchChange:
    added: frozenset[Address]
    removed: frozenset[Address]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


class WatchList:
    def __init__(self, addresses: Iterable[str] = ()) -> None:
        self._live: set[str] = set(_checked(addresses))
        self._listeners: list[Listener] = []

    @classmethod
    def from_config(cls, config: PolytailConfig) -> WatchList:
        return cls(watched_addresses(config))

    @property
    def live(self) -> set[str]:
        """The set itself, for filters that must see changes immediately. Do not mutate."""
        return self._live

    def __contains__(self, wallet: object) -> bool:
        return wallet in self._live

    def __len__(self) -> int:
        return len(self._live)

    def __iter__(self) -> Iterator[Address]:
        return iter([Address(wallet) for wallet in self._live])  # a snapshot

    def snapshot(self) -> frozenset[Address]:
        return frozenset(Address(wallet) for wallet in self._live)

    def update(self, addresses: Iterable[str]) -> WatchChange:
        """Watch exactly `addresses` from now on; listeners learn what was added and removed.

        Every address is validated first, so a bad one changes nothing (IdError names it).
        """
        wanted = set(_checked(addresses))
        change = WatchChange(
            added=frozenset(Address(w) for w in wanted - self._live),
            removed=frozenset(Address(w) for w in self._live - wanted),
        )
        if change:
            self._live.difference_update(change.removed)
            self._live.update(change.added)
            for listener in tuple(self._listeners):
                listener(change)
        return change

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` after every change; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)


def watched_addresses(config: PolytailConfig) -> list[Address]:
    """The enabled leaders of a configuration (what a hot reload passes to `update`)."""
    return [Address(leader.address) for leader in config.leaders if leader.enabled]


def _checked(addresses: Iterable[str]) -> list[str]:
    valid: list[str] = []
    bad: list[str] = []
    for value in addresses:
        try:
            valid.append(address(value))
        except IdError:
            bad.append(repr(value))
    if bad:
        raise IdError(f"not wallet addresses (expected 0x + 40 hex digits): {', '.join(bad)}")
    return valid

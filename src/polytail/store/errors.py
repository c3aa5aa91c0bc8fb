"""What the store refuses, and what the caller should do about it."""

from __future__ import annotations


class StoreError(RuntimeError):
    """Base of the store's refusals. Raised inside a transaction, it also aborts it."""


class DuplicateEvent(StoreError):
    """The database already holds this ledger event: the in-memory ledger is behind it.

    Reload the ledger from the store (`LedgerRepository.load`) and book again; the
    event will then be recognised as booked.
    """


class StaleLedger(StoreError):
    """The account's ledger in the database moved on since this booking was prepared
    (another writer, or a ledger restored from an old state). Reload and retry."""


class StaleOrder(StoreError):
    """The order's row changed since the caller read it; reload it and decide again."""


class UnknownOrder(StoreError):
    """No order with this client id exists."""

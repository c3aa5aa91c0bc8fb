"""The ledger: positions with per-leader attribution, cash, fees, PnL, resolution, redemption.

In memory and free of I/O: the engine persists each `Booking` through the store (the
`persist` hook of `Ledger.apply`) and restores the ledger from a `LedgerSnapshot` on start.
"""

from polytail.portfolio.ledger import ConservationError, Ledger, LedgerError, Persist
from polytail.portfolio.valuation import LeaderValuation, Valuation, mark

__all__ = [
    "ConservationError",
    "LeaderValuation",
    "Ledger",
    "LedgerError",
    "Persist",
    "Valuation",
    "mark",
]

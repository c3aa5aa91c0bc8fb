"""Pure domain types and rules: money, ids, markets, books, fills, orders, positions.

No I/O, no clock, no event loop (enforced by import-linter). Everything here is safe to
call from any layer and exhaustively testable.
"""

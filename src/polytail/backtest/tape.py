"""The tape: every replayed leader fill in venue-time order, and the prices it printed.

The price model starts from the last price the market printed in a token, and the only
trades a backtest knows are the replayed fills, so the tape is that price history.
Venue timestamps have whole seconds, so time alone cannot order a leader's sweep of
several levels inside one second: the tape keeps the replay's order, and positions in
it (`cursor`) say how far the market has got. A copy delivered with no latency sees the
market as its own fill left it; with a latency L it sees every fill up to L after it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from decimal import Decimal

from polytail.domain.fills import LeaderFill
from polytail.domain.ids import TokenId


def fill_ms(fill: LeaderFill) -> int:
    """When a fill happened, in ms (the venue's ms stamp when a feed had one)."""
    return fill.stamps.venue_ms or fill.timestamp * 1000


class Tape:
    def __init__(self, fills: Sequence[LeaderFill]) -> None:
        self.fills = list(fills)
        self.times = [fill_ms(fill) for fill in self.fills]
        if any(a > b for a, b in zip(self.times, self.times[1:], strict=False)):
            raise ValueError("the tape needs fills in venue-time order")
        self._positions: dict[TokenId, list[int]] = {}
        self._prices: dict[TokenId, list[Decimal]] = {}
        for index, fill in enumerate(self.fills):
            self._positions.setdefault(fill.token_id, []).append(index)
            self._prices.setdefault(fill.token_id, []).append(fill.price)

    def __len__(self) -> int:
        return len(self.fills)

    def horizon(self, cursor: int, at_ms: int) -> int:
        """The last tape position printed by `at_ms`, and never before `cursor`."""
        return max(cursor, bisect_right(self.times, at_ms) - 1)

    def last_price(self, token: TokenId, horizon: int) -> Decimal | None:
        """The price of the last fill in `token` at or before tape position `horizon`."""
        positions = self._positions.get(token)
        if not positions:
            return None
        index = bisect_right(positions, horizon) - 1
        return self._prices[token][index] if index >= 0 else None

"""PnL over time: cash flows plus holdings at the last traded price, point by point.

Kept incrementally (a trade, a new price or a resolution changes it in O(1)), so a
point per replayed fill costs nothing measurable even for 100,000 fills. Holdings are
marked at the tape's last price in their token (the price model's reference) until the
market resolves, then at the payout. Drawdown is the largest fall from a running peak,
in pUSD, kept as the points come; per-wallet curves keep only that, not the points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from polytail.domain.fills import Side
from polytail.domain.ids import TokenId

ZERO = Decimal(0)


@dataclass
class Curve:
    cash: Decimal = ZERO  # net cash flow: sales and redemptions less purchases and fees
    value: Decimal = ZERO  # holdings at their marks
    held: dict[TokenId, Decimal] = field(default_factory=dict)
    marks: dict[TokenId, Decimal] = field(default_factory=dict)
    settled: set[TokenId] = field(default_factory=set)
    points: list[tuple[int, Decimal]] = field(default_factory=list)
    keep_points: bool = True  # False: only the peak and the drawdown are kept
    peak: Decimal | None = None
    max_drawdown: Decimal = ZERO

    @property
    def pnl(self) -> Decimal:
        return self.cash + self.value

    def trade(
        self, token: TokenId, side: Side, shares: Decimal, notional: Decimal, fee: Decimal
    ) -> None:
        mark = self.marks.get(token)
        if mark is None and shares:
            mark = self.marks[token] = notional / shares
        signed = shares if side is Side.BUY else -shares
        self.cash += (-notional if side is Side.BUY else notional) - fee
        self.held[token] = self.held.get(token, ZERO) + signed
        self.value += signed * (mark or ZERO)

    def price(self, token: TokenId, price: Decimal) -> None:
        """A new traded price in `token` (ignored once its market has resolved)."""
        if token in self.settled:
            return
        old = self.marks.get(token)
        self.marks[token] = price
        held = self.held.get(token)
        if held and old is not None:
            self.value += held * (price - old)

    def settle(self, token: TokenId, payout: Decimal) -> None:
        """The market resolved: the holding is worth its payout from now on."""
        self.price(token, payout)
        self.marks[token] = payout
        self.settled.add(token)

    def point(self, at_ms: int) -> None:
        pnl = self.pnl
        if self.peak is None or pnl > self.peak:
            self.peak = pnl
        self.max_drawdown = max(self.max_drawdown, self.peak - pnl)
        if self.keep_points:
            self.points.append((at_ms, pnl))


def downsample(points: Sequence[tuple[int, Decimal]], limit: int) -> list[tuple[int, Decimal]]:
    """At most about `limit` points that keep each bucket's first, lowest and highest
    (so drawdowns stay visible) and the very last point."""
    if len(points) <= limit:
        return list(points)
    size = -(-len(points) // max(1, limit // 3))
    kept: list[tuple[int, Decimal]] = []
    for start in range(0, len(points), size):
        bucket = points[start : start + size]
        chosen = {0, min(range(len(bucket)), key=lambda i: bucket[i][1])}
        chosen.add(max(range(len(bucket)), key=lambda i: bucket[i][1]))
        kept.extend(bucket[i] for i in sorted(chosen))
    if kept[-1] != points[-1]:
        kept.append(points[-1])
    return kept


@dataclass
class Curves:
    """One curve for everything and one per wallet (leader), moved together."""

    combined: Curve = field(default_factory=Curve)
    wallets: dict[str, Curve] = field(default_factory=dict)

    def trade(
        self,
        wallet: str,
        token: TokenId,
        side: Side,
        *,
        shares: Decimal,
        notional: Decimal,
        fee: Decimal,
    ) -> None:
        self.combined.trade(token, side, shares, notional, fee)
        curve = self.wallets.get(wallet)
        if curve is None:
            curve = self.wallets[wallet] = Curve(
                marks=dict(self.combined.marks),
                settled=set(self.combined.settled),
                keep_points=False,  # per-wallet figures need the drawdown, not the points
            )
        curve.trade(token, side, shares, notional, fee)

    def price(self, token: TokenId, price: Decimal) -> None:
        self.combined.price(token, price)
        for curve in self.wallets.values():
            curve.price(token, price)

    def settle(self, token: TokenId, payout: Decimal) -> None:
        self.combined.settle(token, payout)
        for curve in self.wallets.values():
            curve.settle(token, payout)

    def point(self, at_ms: int) -> None:
        self.combined.point(at_ms)
        for curve in self.wallets.values():
            curve.point(at_ms)

    def of(self, wallet: str) -> Curve:
        return self.wallets.get(wallet) or Curve()

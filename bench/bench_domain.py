"""Domain arithmetic throughput: the exact-money operations on the hot path.

Money is objects, not floats; this measures what that costs per operation, and the book
walk on a real recorded 104-level book (polymarket-cli/book.json).
"""

from __future__ import annotations

import json
import tracemalloc
from decimal import Decimal

from harness import Figure, latency_figures, rate, record, shared_data, time_each
from polytail.domain.book import Level, OrderBook
from polytail.domain.ids import address, fill_id, token_id, tx_hash
from polytail.domain.market import FeeSchedule
from polytail.domain.money import Price, Rounding, Shares, Usdc, cost_of, shares_for
from polytail.domain.positions import Position


def main() -> None:
    price = Price.parse("0.537")
    shares = Shares.parse("123.45")
    amount = Usdc.parse("66.29")
    fees = FeeSchedule(rate=Decimal("0.07"), exponent=Decimal(1))
    tx, wallet = tx_hash("0x" + "ab" * 32), address("0x" + "cd" * 20)
    token = token_id(
        "31580298928034717121287201018973507946553544207612680382558768593005033869136"
    )
    raw = json.loads((shared_data() / "polymarket-cli" / "book.json").read_text())
    book = OrderBook(
        token,
        bids=(),
        asks=tuple(
            Level(Price.parse(lvl["price"]), Shares.parse(lvl["size"]))
            for lvl in reversed(raw["asks"])
        ),
    )
    position = Position("default", token, "0x" + "1" * 64, 0)  # type: ignore[arg-type]
    held = position.bought(wallet, Shares.parse("100"), Usdc.parse("50"), Usdc(0))

    figures = [
        Figure("cost_of_ops", round(rate(lambda: cost_of(shares, price), 10_000)), "ops/s"),
        Figure("shares_for_ops", round(rate(lambda: shares_for(amount, price), 10_000)), "ops/s"),
        Figure("usdc_add_ops", round(rate(lambda: amount + amount, 10_000)), "ops/s"),
        Figure(
            "scale_ratio_ops",
            round(rate(lambda: amount.scale(3, 7, Rounding.DOWN), 10_000)),
            "ops/s",
        ),
        Figure(
            "taker_fee_ops", round(rate(lambda: fees.taker_fee(shares, price), 10_000)), "ops/s"
        ),
        Figure(
            "fill_id_ops",
            round(
                rate(
                    lambda: fill_id(
                        tx=tx, wallet=wallet, token=token, side="BUY", size=shares, occurrence=0
                    ),
                    10_000,
                )
            ),
            "ops/s",
        ),
        Figure(
            "position_buy_sell_ops",
            round(
                rate(
                    lambda: held.sold(wallet, Shares.parse("40"), Usdc.parse("25"), Usdc(0)), 5_000
                )
            ),
            "ops/s",
        ),
    ]
    walk_samples = time_each(lambda: book.buy_shares(Shares.parse("2500")), 5_000)
    figures += latency_figures("book_walk_2500_shares", walk_samples, "us")

    tracemalloc.start()
    values = [Usdc(i) for i in range(100_000)]
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures.append(Figure("usdc_object_size", round(current / len(values)), "bytes"))
    figures.append(Figure("book_levels", len(book.asks), "levels"))
    record("domain", figures)


if __name__ == "__main__":
    main()

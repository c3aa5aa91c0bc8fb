"""Copy-decision throughput and latency with 1,000 open positions.

A portfolio holds 1,000 positions (500 markets, both outcomes, lots of five leaders) and
one open order per ten positions. Leader fills arrive in a fixed, seeded mix: copies
(some shrunk by caps or the book), skips (filters, breakers, caps, below the minimum)
and mirrored exits. Targets (issue 6): at least 50,000 decisions per second and a p99
decision latency under 100 µs. Also measured: one view update (order opened + filled),
the exit-rule evaluation of a position, and memory per open position in the view.
"""

from __future__ import annotations

import random
import tracemalloc
from collections import Counter
from decimal import Decimal
from typing import Any

from harness import Figure, latency_figures, rate, record, time_each
from polytail.config.schema import PolytailConfig
from polytail.domain.book import Level, OrderBook
from polytail.domain.fills import FeedSource, LeaderFill, Role, Side
from polytail.domain.ids import AccountId, Address, FillId, address, condition_id, token_id
from polytail.domain.market import FeeSchedule, Market, MarketVersion, Outcome
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.positions import Position
from polytail.policy import Accumulator, LeaderView, OpenBuy, Policy, PortfolioView, Quote

NOW_MS = 1_780_000_000_000
MARKETS = 500
LEADERS: list[Address] = [address(f"0x{i:040x}") for i in range(1, 6)]
CASES = 20_000
SEED = 6


def build_markets(rng: random.Random) -> list[Quote]:
    quotes = []
    for m in range(MARKETS):
        yes, no = token_id(2 * m + 1), token_id(2 * m + 2)
        fees = FeeSchedule(rate=Decimal("0.07")) if m % 3 else FeeSchedule.free()
        market = Market(
            condition_id=condition_id(f"0x{m:064x}"),
            version=MarketVersion.V2 if m % 2 else MarketVersion.V1,
            outcomes=(Outcome(0, "Yes", yes), Outcome(1, "No", no)),
            tick=Price.parse("0.01"),
            fees=fees,
            end_date=NOW_MS // 1000 + rng.randint(3_600, 30 * 86_400),
            slug=f"market-{m}",
            category=("Sports", "Crypto", "Politics")[m % 3],
        )
        mid = rng.randint(10, 90)
        for token, center in ((yes, mid), (no, 100 - mid)):
            bids = tuple(
                Level(Price((center - 1 - i) * 10_000), Shares(rng.randint(20, 2_000) * 10**6))
                for i in range(5)
                if center - 1 - i > 0
            )
            asks = tuple(
                Level(Price((center + i) * 10_000), Shares(rng.randint(20, 2_000) * 10**6))
                for i in range(5)
                if center + i < 100
            )
            quotes.append(Quote(market, OrderBook(token, bids=bids, asks=asks)))
    return quotes


def build_portfolio(quotes: list[Quote], rng: random.Random) -> PortfolioView:
    positions = []
    open_buys = []
    for index, quote in enumerate(quotes):  # 1,000 outcomes, one position each
        token = quote.book.token_id if quote.book else token_id(1)
        outcome = quote.market.outcome_for(token)
        position = Position(AccountId("bench"), token, quote.market.condition_id, outcome.index)
        for leader in rng.sample(LEADERS, 2):
            amount = rng.randint(1, 60)
            position = position.bought(
                leader, Shares(amount * 2 * 10**6), Usdc(amount * 10**6), Usdc(0)
            )
        positions.append(position)
        if index % 10 == 0:
            open_buys.append(
                OpenBuy(token, quote.market.condition_id, LEADERS[index % 5], Usdc(5 * 10**6))
            )
    return PortfolioView.build(
        account=AccountId("bench"),
        cash=Usdc(200_000 * 10**6),
        equity=Usdc(250_000 * 10**6),
        peak_equity=Usdc(260_000 * 10**6),
        day=NOW_MS // 86_400_000,
        positions=positions,
        open_buys=open_buys,
    )


def build_policy() -> Policy:
    leaders: list[dict[str, Any]] = [{"address": leader} for leader in LEADERS]
    leaders[1]["sizing"] = {"mode": "ratio", "ratio": "0.05"}
    leaders[2]["sizing"] = {"mode": "equity_pct", "equity_pct": "0.01"}
    leaders[3]["filters"] = {"categories_deny": ["politics"]}
    config = PolytailConfig.model_validate(
        {
            "account": "bench",
            "leaders": leaders,
            "risk": {
                "max_order_usdc": "40",
                "max_market_usdc": "180",
                "max_outcome_usdc": "120",
                "max_leader_usdc": "40000",
                "max_total_usdc": "100000",
                "max_open_orders": 500,
            },
        }
    )
    return Policy.from_config(config)


def build_cases(
    quotes: list[Quote], view: PortfolioView, rng: random.Random
) -> list[tuple[LeaderFill, Quote, LeaderView]]:
    cases = []
    for n in range(CASES):
        quote = quotes[rng.randrange(len(quotes))]
        book = quote.book
        assert book is not None
        roll = rng.random()
        side = Side.SELL if roll < 0.25 else Side.BUY
        touch = (book.best_ask if side is Side.BUY else book.best_bid) or Price(500_000)
        price = touch.to_decimal()
        if 0.25 <= roll < 0.30:
            price = Decimal("0.995")  # price band
        age = 400 if 0.30 <= roll < 0.33 else rng.randint(1, 30)  # too old
        size = rng.randint(1, 3_000) * 10**6
        wallet = LEADERS[rng.randrange(5)] if roll < 0.97 else address(f"0x{99:040x}")
        held = view.positions.get(book.token_id)
        before = None if held is None or roll < 0.1 else Shares(size * rng.randint(1, 4))
        fill = LeaderFill(
            fill_id=FillId(f"f{n:031x}"),
            wallet=wallet,
            side=side,
            token_id=book.token_id,
            condition_id=quote.market.condition_id,
            outcome_index=quote.market.outcome_for(book.token_id).index,
            price=price,
            size=Shares(size),
            usdc=Usdc(size * touch.micros // 10**6),
            timestamp=NOW_MS // 1000 - age,
            tx_hash=None,
            source=FeedSource.STREAM,
            role=Role.TAKER,
        )
        cases.append((fill, quote, LeaderView(position_before=before)))
    return cases


def main() -> None:
    rng = random.Random(SEED)
    quotes = build_markets(rng)
    tracemalloc.start()
    view = build_portfolio(quotes, rng)
    view_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    policy = build_policy()
    cases = build_cases(quotes, view, rng)
    pending = Accumulator()

    outcomes: Counter[str] = Counter()
    for fill, quote, leader in cases:
        decision, _ = policy.decide(fill, quote, view, leader, now_ms=NOW_MS, pending=pending)
        outcomes[decision.side.value + " " + decision.action.value if decision.side else "?"] += 1

    cursor = iter(range(10**12))

    def one() -> object:
        fill, quote, leader = cases[next(cursor) % CASES]
        return policy.decide(fill, quote, view, leader, now_ms=NOW_MS, pending=pending)

    per_second = rate(one, batch=CASES, seconds=2.0)
    samples = time_each(one, repeat=4 * CASES)
    p99_us = sorted(samples)[int(0.99 * (len(samples) - 1))] / 1000

    # one view update: a BUY order opened, then filled
    token, condition = quotes[0].book.token_id, quotes[0].market.condition_id  # type: ignore[union-attr]

    def update() -> object:
        opened = view.buy_order_opened(
            token=token, condition=condition, leader=LEADERS[0], reserve=Usdc(10**7)
        )
        released = opened.buy_order_released(
            token=token, condition=condition, leader=LEADERS[0], reserve=Usdc(10**7), closed=True
        )
        return released.bought(
            token=token,
            condition=condition,
            outcome_index=0,
            leader=LEADERS[0],
            shares=Shares(2 * 10**7),
            notional=Usdc(10**7),
            fee=Usdc(0),
            seq=1,
        )

    exit_policy = Policy.from_config(
        PolytailConfig.model_validate(
            {
                "leaders": [{"address": leader} for leader in LEADERS],
                "exits": {"stop_loss_pct": 30, "take_profit_pct": 50, "trailing_stop_pct": 20},
            }
        )
    )
    exit_token = quotes[0].book.token_id  # type: ignore[union-attr]

    def exits() -> object:
        return exit_policy.exit_rules(
            token=exit_token,
            quote=quotes[0],
            portfolio=view,
            mark=Price(300_000),
            high_water=Price(600_000),
            now_ms=NOW_MS,
        )

    figures = [
        Figure("decisions_per_s", round(per_second), "1/s", "target >= 50,000"),
        *latency_figures("decision", samples, "us"),
        Figure(
            "decision_targets_met",
            int(per_second >= 50_000 and p99_us < 100),
            "bool",
            "throughput >= 50,000/s and p99 < 100 us",
        ),
        Figure("open_positions", len(view.positions), "positions"),
        Figure("mix_copies", outcomes["BUY copy"], "decisions", f"of {CASES}"),
        Figure("mix_skips", outcomes["BUY skip"] + outcomes["SELL skip"], "decisions"),
        Figure("mix_exits", outcomes["SELL copy"], "decisions"),
        Figure(
            "view_update_ops",
            round(rate(update, batch=2_000)),
            "1/s",
            "order opened + released + filled",
        ),
        *latency_figures("exit_rules_position", time_each(exits, repeat=20_000), "us"),
        Figure("view_bytes_per_position", round(view_bytes / len(view.positions)), "bytes"),
    ]
    record("policy", figures)


if __name__ == "__main__":
    main()

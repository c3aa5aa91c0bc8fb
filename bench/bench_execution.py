"""Execution hot paths: building and signing an order through the official SDK (the path
the live broker uses, including the order hash recorded before posting), paper fills per
second (book walk + per-level fees + booking into the in-memory ledger), and the pipeline's
decision-to-order latency in paper mode (policy, PENDING write with the decision, paper
fill, booking with the order's progress in one SQLite transaction, view updates).

Signing runs against the local exchange (market metadata is fetched once and cached by the
SDK); the paper figures use a recorded resolvedkit book.
"""

from __future__ import annotations

import asyncio
import importlib
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
from eth_account import Account

from harness import Figure, latency_figures, record, shared_data
from polytail.config.schema import PolytailConfig, WalletSettings, WalletType
from polytail.config.secrets import Secret
from polytail.domain.book import Level, OrderBook
from polytail.domain.fills import FeedSource, LeaderFill, Side
from polytail.domain.ids import (
    AccountId,
    ConditionId,
    FillId,
    TokenId,
    TxHash,
    address,
    client_order_id,
)
from polytail.domain.market import FeeSchedule, Market, MarketVersion, Outcome
from polytail.domain.money import Price, Shares, Usdc, cost_of
from polytail.domain.orders import OrderIntent, OrderType
from polytail.engine.clock import WallClock
from polytail.engine.runtime import Edges, Engine, LedgerAccount
from polytail.execution.paper import PaperBroker
from polytail.sim.server import start_sim
from polytail.store import Store
from polytail.venue.trading import LiveTrading

# The execution tests' helpers (the harness puts tests/ on the path).
support = importlib.import_module("execution.support")
FEE_MARKET, Harness, scenario = support.FEE_MARKET, support.Harness, support.scenario
tokens, venue_settings = support.tokens, support.venue_settings

ACCOUNT = AccountId("default")
LEADER = address("0x" + "1e" * 20)


def recorded_book() -> OrderBook:
    row = pq.read_table(shared_data() / "resolvedkit/books.parquet").slice(0, 1).to_pylist()[0]

    def levels(prices: list[float], sizes: list[float]) -> tuple[Level, ...]:
        return tuple(
            Level(Price.parse(Decimal(repr(p))), Shares.parse(Decimal(repr(s))))
            for p, s in zip(prices, sizes, strict=True)
        )

    return OrderBook(
        TokenId("7001"), levels(row["bid_px"], row["bid_sz"]), levels(row["ask_px"], row["ask_sz"])
    )


def market_of(book: OrderBook) -> Market:
    return Market(
        condition_id=ConditionId("0x" + "cd" * 32),
        version=MarketVersion.V1,
        outcomes=(Outcome(0, "Up", book.token_id), Outcome(1, "Down", TokenId("7002"))),
        tick=Price.parse("0.01"),
        fees=FeeSchedule(rate=Decimal("0.072")),
    )


def intent(number: int, token: TokenId, condition: ConditionId, kind: OrderType) -> OrderIntent:
    key = f"bench:{number}"
    shares, price = Shares.parse("50"), Price.parse("0.55")
    return OrderIntent(
        client_id=client_order_id(ACCOUNT, key),
        account=ACCOUNT,
        intent_key=key,
        token_id=token,
        condition_id=condition,
        side=Side.BUY,
        order_type=kind,
        limit_price=price,
        size=shares,
        max_spend=cost_of(shares, price),
        created_at_ms=0,
    )


class Static:
    def __init__(self, book: OrderBook, market: Market) -> None:
        self.current, self.market = book, market

    async def book(self, token: TokenId) -> OrderBook:
        return self.current

    async def get(self, condition: ConditionId) -> Market:
        return self.market

    async def get_by_token(self, token: TokenId) -> Market:
        return self.market


async def signing(count: int) -> list[Figure]:
    with start_sim(scenario(FEE_MARKET), settle_delays=(0.0, 0.0)) as sim:
        account = Account.create()
        sim.admin.fund(account.address, pusd="1000")
        trading = await LiveTrading.connect(
            venue=venue_settings(sim),
            wallet=WalletSettings(address=account.address, type=WalletType.EOA),
            private_key=Secret(account.key.hex()),
        )
        condition, (yes, _) = tokens(sim, "fees")
        market = Market(
            condition_id=condition,
            version=MarketVersion.V1,
            outcomes=(Outcome(0, "Yes", yes), Outcome(1, "No", TokenId("1"))),
            tick=Price.parse("0.01"),
        )
        samples: dict[str, list[float]] = {"limit": [], "market": []}
        for number in range(count + 10):
            for kind, name in ((OrderType.GTC, "limit"), (OrderType.FOK, "market")):
                order = intent(number, yes, condition, kind)
                start = time.perf_counter_ns()
                signed = await trading.sign(order, market)
                trading.order_id(signed, market)
                if number >= 10:  # the first calls fetch and cache market metadata
                    samples[name].append(time.perf_counter_ns() - start)
        await trading.close()
    return [
        *latency_figures("sign_limit_order", samples["limit"], "us"),
        *latency_figures("sign_market_order", samples["market"], "us"),
    ]


async def paper_fills(count: int) -> list[Figure]:
    book = recorded_book()
    market = market_of(book)
    harness = Harness()
    harness.deposit(Usdc.parse("100000000"))
    broker = PaperBroker(Static(book, market), harness, latency_ms=0, now_ms=lambda: 0)
    orders = [intent(n, book.token_id, market.condition_id, OrderType.FAK) for n in range(count)]
    start = time.perf_counter()
    for order in orders:
        report = await broker.submit(await broker.prepare(order, market), market)
        for trade in report.trades:
            harness.book(trade, market)
    elapsed = time.perf_counter() - start
    return [
        Figure(
            "paper_fills_per_s",
            round(count / elapsed),
            "fills/s",
            "FAK BUY of 50 shares over a recorded book: walk, fees per level, ledger booking",
        )
    ]


async def pipeline_latency(count: int) -> list[Figure]:
    book = recorded_book()
    market = market_of(book)
    with tempfile.TemporaryDirectory() as folder:
        config = PolytailConfig.model_validate(
            {
                "data_dir": folder,
                "database": {"url": f"sqlite:///{Path(folder) / 'paper.sqlite'}"},
                "leaders": [{"address": LEADER}],
                "filters": {"max_fill_age_s": 10**9},
                "sizing": {"mode": "fixed", "fixed_usdc": 5},
                "risk": {
                    "max_total_usdc": 10**7,
                    "max_market_usdc": 10**7,
                    "max_outcome_usdc": 10**7,
                    "max_leader_usdc": 10**7,
                    "max_open_orders": 10**6,
                },
                "pricing": {"slippage_bps": 300, "buy_order_type": "FAK"},
                "paper": {"latency_ms": 0, "starting_cash_usdc": 10**7},
            }
        )
        static = Static(book, market)
        store = Store.open(config.database_url())
        holder: list[Engine] = []

        clock = WallClock()
        broker = PaperBroker(
            static, LedgerAccount(lambda: holder[0].orders), latency_ms=0, now_ms=clock.now_ms
        )

        async def nothing():  # type: ignore[no-untyped-def]
            yield  # pragma: no cover

        engine = Engine(config, store, Edges(nothing(), broker, static, static, clock))
        holder.append(engine)
        await engine.start()
        samples = []
        now_s = int(time.time())
        for number in range(count):
            fill = LeaderFill(
                fill_id=FillId(f"f{number:031d}"),
                wallet=LEADER,
                side=Side.BUY,
                token_id=book.token_id,
                condition_id=market.condition_id,
                outcome_index=0,
                price=Decimal("0.51"),
                size=Shares.parse("100"),
                usdc=Usdc.parse("51"),
                timestamp=now_s,
                tx_hash=TxHash("0x" + f"{number:064x}"),
                source=FeedSource.STREAM,
            )
            start = time.perf_counter_ns()
            handled = await engine.pipeline.handle(fill)
            samples.append(time.perf_counter_ns() - start)
            assert handled is not None and handled.order is not None, handled
        store.close()
    return latency_figures("paper_fill_to_order_booked", samples, "ms")


async def main() -> None:
    figures = await signing(200)
    figures += await paper_fills(5_000)
    figures += await pipeline_latency(500)
    for figure in figures:
        print(f"{figure.name:36} {figure.value:>12} {figure.unit}  {figure.note}")
    record("execution", figures)


if __name__ == "__main__":
    asyncio.run(main())

"""Ledger and store throughput: booking a fill through the ledger and the store (one
committed transaction each), the PENDING-intent insert (the one synchronous write on the hot
path), on SQLite and on PostgreSQL; and the in-memory ledger alone for comparison.

PostgreSQL is the server at 127.0.0.1:5432 (user postgres, then root) with its default
durability (synchronous_commit on: every commit waits for the WAL flush); a scratch
database is created and dropped. SQLite is a file in a temporary folder (WAL,
synchronous=NORMAL).
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from harness import Figure, latency_figures, record, time_each
from polytail.domain.fills import Side
from polytail.domain.ids import (
    AccountId,
    Address,
    ConditionId,
    FillId,
    TokenId,
    client_order_id,
    copy_intent_key,
)
from polytail.domain.ledger import CashKind, CashMovement, TradeFill
from polytail.domain.money import Price, Shares, Usdc, cost_of, proceeds_of
from polytail.domain.orders import OrderIntent, OrderType
from polytail.portfolio import Ledger
from polytail.store import Store

ACCOUNT = AccountId("bench")
LEADERS = [Address("0x" + digit * 40) for digit in "abc"]
TOKENS = 40
UPDATES = {"sqlite": 3_000, "postgresql": 1_500}


def fills(count: int) -> Iterator[TradeFill]:
    """Buys over 40 outcomes and 3 leaders; every third fill sells half of the buy before it."""
    for number in range(count):
        selling = number % 3 == 2
        lot = number - 1 if selling else number
        token = TokenId(str(1_000 + lot % TOKENS))
        shares = Shares.parse("5") if selling else Shares.parse("10")
        price = Price.parse("0.45")
        yield TradeFill(
            account=ACCOUNT,
            trade_id=f"trade-{number}",
            side=Side.SELL if selling else Side.BUY,
            token_id=token,
            condition_id=ConditionId("0x" + f"{lot % TOKENS:064x}"),
            outcome_index=0,
            leader=LEADERS[lot % len(LEADERS)],
            shares=shares,
            price=price,
            notional=proceeds_of(shares, price) if selling else cost_of(shares, price),
            fee=Usdc.parse("0.01"),
            at_ms=number,
        )


def intents(count: int) -> Iterator[OrderIntent]:
    for number in range(count):
        key = copy_intent_key(FillId(f"f{number:031d}"))
        yield OrderIntent(
            client_id=client_order_id(ACCOUNT, key),
            account=ACCOUNT,
            intent_key=key,
            token_id=TokenId("101"),
            condition_id=ConditionId("0x" + "1" * 64),
            side=Side.BUY,
            order_type=OrderType.FOK,
            limit_price=Price.parse("0.52"),
            size=Shares.parse("20"),
            max_spend=Usdc.parse("10.4"),
            created_at_ms=number,
            fill_id=FillId(f"f{number:031d}"),
            leader=LEADERS[0],
        )


def funded(persist: Callable[..., object] | None) -> Ledger:
    ledger = Ledger(ACCOUNT, persist=persist)
    ledger.apply(CashMovement(ACCOUNT, "start", CashKind.DEPOSIT, Usdc.parse("1000000"), 0))
    return ledger


def measure(backend: str, store: Store) -> list[Figure]:
    count = UPDATES[backend]
    ledger = funded(store.record)
    pending = iter(fills(count))
    started = time.perf_counter()
    samples = time_each(lambda: ledger.apply(next(pending)), count)
    elapsed = time.perf_counter() - started
    figures = [
        Figure(
            f"{backend}_ledger_updates_per_s",
            round(count / elapsed),
            "updates/s",
            "fill booked through ledger + store, one commit each",
        ),
        *latency_figures(f"{backend}_ledger_update", samples, "us"),
    ]
    new_intents = iter(intents(count))

    def write_pending() -> None:
        with store.transaction() as tx:
            tx.orders.create_intent(next(new_intents))

    figures += latency_figures(f"{backend}_pending_intent_insert", time_each(write_pending, count))
    return figures


@contextmanager
def postgres_url() -> Iterator[str | None]:
    for user in ("postgres", "root"):
        try:
            admin = psycopg.connect(
                host="127.0.0.1", user=user, dbname="postgres", autocommit=True, connect_timeout=3
            )
        except psycopg.OperationalError:
            continue
        name = f"polytail_bench_{secrets.token_hex(4)}"
        with admin:
            admin.execute(f'CREATE DATABASE "{name}"')
            try:
                yield f"postgresql+psycopg://{user}@127.0.0.1:5432/{name}"
            finally:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        return
    yield None


def main() -> None:
    memory = funded(None)
    in_memory = iter(fills(50_000))
    samples = time_each(lambda: memory.apply(next(in_memory)), 50_000)
    figures = [
        Figure(
            "memory_ledger_updates_per_s",
            round(len(samples) / (sum(samples) / 1e9)),
            "updates/s",
            "ledger alone, conservation checked after each",
        ),
        *latency_figures("memory_ledger_update", samples, "us"),
    ]
    with (
        tempfile.TemporaryDirectory() as folder,
        Store.open(f"sqlite:///{Path(folder) / 'bench.sqlite'}") as store,
    ):
        figures += measure("sqlite", store)
    with postgres_url() as url:
        if url is None:
            print("PostgreSQL at 127.0.0.1:5432 does not answer: PostgreSQL figures left out")
        else:
            with Store.open(url) as store:
                figures += measure("postgresql", store)
    record("ledger", figures)


if __name__ == "__main__":
    main()

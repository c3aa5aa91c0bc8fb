"""User-channel trade events → final fills of our orders (the live fill-booking hot path).

A CONFIRMED `trade` frame, as the CLOB user channel sends it for one of our resting
orders, is parsed from bytes (`orjson`), normalised exactly (`venue.normalize.user_events`)
and turned into the fill the order manager books (`execution.live.trade_reports`, fee from
the market's curve). Booking itself is measured by `bench_ledger`.
"""

from __future__ import annotations

from decimal import Decimal

import orjson

from harness import Figure, latency_figures, rate, record, time_each
from polytail.domain.ids import Address, ConditionId, TokenId
from polytail.domain.market import FeeSchedule, Market, MarketVersion, Outcome
from polytail.domain.money import Price, Shares
from polytail.execution.live import trade_reports
from polytail.venue.normalize.user_events import own_trade

WALLET = Address("0x4e04b1d0e1d2c4a4d8b8b6f8ab6bd0ae1e0c0faa")
TOKEN = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
CONDITION = "0xbd31dc8a20211944f6b70f31557f1001557b59905b7738480ca09bd4532f84af"


def frame(makers: int) -> bytes:
    return orjson.dumps(
        {
            "event_type": "trade",
            "id": "28c4d2eb-bbea-40e7-a9f0-b2fdb56b2c2e",
            "taker_order_id": "0x" + "06" * 32,
            "market": CONDITION,
            "asset_id": TOKEN,
            "side": "SELL",
            "size": str(10 * makers),
            "price": "0.57",
            "status": "CONFIRMED",
            "matchtime": "1672290701",
            "trader_side": "MAKER",
            "transaction_hash": "0x" + "ab" * 32,
            "maker_orders": [
                {
                    "order_id": "0x" + f"{i:064x}",
                    "maker_address": WALLET if i == 0 else "0x" + "11" * 20,
                    "matched_amount": "10",
                    "price": "0.57",
                    "side": "BUY",
                }
                for i in range(makers)
            ],
        }
    )


def main() -> None:
    market = Market(
        condition_id=ConditionId(CONDITION),
        question="bench",
        version=MarketVersion.V1,
        outcomes=(Outcome(0, "Yes", TokenId(TOKEN)), Outcome(1, "No", TokenId("1"))),
        tick=Price.parse("0.01"),
        min_size=Shares.parse("5"),
        fees=FeeSchedule(rate=Decimal("0.05"), exponent=Decimal(1)),
    )
    one, many = frame(1), frame(8)

    def book_one(raw: bytes) -> None:
        (fill,) = trade_reports(own_trade(orjson.loads(raw)), market, WALLET)
        assert fill.shares.units == 10_000_000

    per_second = rate(lambda: book_one(one), batch=500, seconds=2.0)
    per_second_many = rate(lambda: book_one(many), batch=200, seconds=2.0)
    latency = time_each(lambda: book_one(one), repeat=5000)
    record(
        "user_channel",
        [
            Figure("trade_events_per_s", round(per_second), "events/s", "1 maker fill"),
            Figure("trade_events_8_makers_per_s", round(per_second_many), "events/s", "8 fills"),
            *latency_figures("trade_event", latency, "us"),
        ],
    )


if __name__ == "__main__":
    main()

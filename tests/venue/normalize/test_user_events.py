"""User-channel events become the same records as the REST trade history, exactly, and a
malformed event names the field that is wrong."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polytail.domain.fills import Side
from polytail.domain.money import Shares
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.user_events import order_event, own_trade

TRADE = {
    "event_type": "trade",
    "id": "28c4d2eb-bbea-40e7-a9f0-b2fdb56b2c2e",
    "taker_order_id": "0x06bc63e346ed4ceddce9efd6b3af37c8f8f440c92fe7da6b2d0f9e4ccbc50c42",
    "market": "0xBD31DC8A20211944F6B70F31557F1001557B59905B7738480CA09BD4532F84AF",
    "asset_id": "52114319501245915516055106046884209969926127482827954674443846427813813222426",
    "side": "BUY",
    "size": "10.005",
    "price": "0.57",
    "status": "MATCHED",
    "matchtime": "1672290701",
    "trader_side": "TAKER",
    "transaction_hash": "",
    "maker_orders": [
        {
            "order_id": "0xff354cd7ca7539dfa9c28d90943ab5779a4eac34b9b37a757d7b32bdfb11790b",
            "maker_address": "0x4E04B1D0E1d2C4A4D8b8b6F8aB6bD0aE1E0c0fAa",
            "matched_amount": "10.005",
            "price": "0.57",
            "side": "SELL",
        }
    ],
}


def test_a_trade_event_is_read_exactly() -> None:
    trade = own_trade(TRADE)
    assert trade.status == "MATCHED" and trade.side is Side.BUY
    assert trade.size == Shares(10_005_000) and trade.price == Decimal("0.57")
    assert trade.condition_id == TRADE["market"].lower()  # type: ignore[attr-defined]
    assert trade.matched_at == 1672290701 and trade.tx_hash is None
    (maker,) = trade.maker_fills
    assert maker.shares == Shares(10_005_000) and maker.side is Side.SELL
    assert maker.maker_address == "0x4e04b1d0e1d2c4a4d8b8b6f8ab6bd0ae1e0c0faa"


def test_a_malformed_trade_event_names_the_field() -> None:
    broken = {**TRADE, "size": "ten"}
    with pytest.raises(MalformedRow, match="size"):
        own_trade(broken)
    without = {k: v for k, v in TRADE.items() if k != "taker_order_id"}
    with pytest.raises(MalformedRow, match="taker_order_id"):
        own_trade(without)


def test_an_order_event_says_what_changed() -> None:
    event = order_event(
        {"event_type": "order", "id": "0xabc", "type": "cancellation", "status": "CANCELED"}
    )
    assert (event.order_id, event.kind, event.status) == ("0xabc", "CANCELLATION", "CANCELED")

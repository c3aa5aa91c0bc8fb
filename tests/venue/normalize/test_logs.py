"""OrderFilled logs decode into fills with role, fee, exact amounts and log order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eth_abi.abi import encode

from polytail.domain.fills import FeedSource, Role, Side
from polytail.domain.money import Shares, Usdc
from polytail.venue.normalize.logs import (
    ORDER_FILLED_V1,
    ORDER_FILLED_V2,
    decode_order_filled,
    logs_batch,
)

EXCHANGE = "0xe111180000d2663c0091e4f400237545b87b996b"
LEADER = "0x6a72f61820b26b1fe4d956e17b6dc2a1ea3033ee"
OTHER = "0x9fb96c5cf2027d0ce8e0e92fc30b52e81f001866"
TOKEN = 31580298928034717121287201018973507946553544207612680382558768593005033869136
TX = "0x" + "ab" * 32


def topic(address: str) -> str:
    return "0x" + "0" * 24 + address[2:]


def v2_log(
    *,
    side: int,
    maker_amount: int,
    taker_amount: int,
    fee: int = 0,
    maker: str = LEADER,
    taker: str = OTHER,
    log_index: int = 1,
    block: int = 100,
) -> dict[str, Any]:
    """A log laid out as ExchangeV2's ABI declares it (clob-client-v2 ExchangeV2.ts)."""
    data = encode(
        ["uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32"],
        [side, TOKEN, maker_amount, taker_amount, fee, b"\0" * 32, b"\0" * 32],
    )
    return {
        "address": "0xE111180000d2663C0091e4f400237545B87B996B",
        "topics": [ORDER_FILLED_V2, "0x" + "11" * 32, topic(maker), topic(taker)],
        "data": "0x" + data.hex(),
        "blockNumber": hex(block),
        "transactionHash": TX,
        "logIndex": hex(log_index),
        "removed": False,
    }


def test_a_maker_buy_decodes_with_the_documented_sample_amounts() -> None:
    # Sample row from polymarket-api.md §6.1: side 0, 8,000,000 / 10,000,000, fee 115,200.
    log = v2_log(side=0, maker_amount=8_000_000, taker_amount=10_000_000, fee=115_200)
    (fill,), rejects, _ = logs_batch([log], block_times={100: 1777000000})

    assert rejects == []
    assert fill.side is Side.BUY and fill.wallet == LEADER
    assert fill.size == Shares(10_000_000) and fill.usdc == Usdc(8_000_000)
    assert fill.price == Decimal("0.8")
    assert fill.fee == Usdc(115_200)
    assert fill.role is Role.MAKER and fill.source is FeedSource.CHAIN
    assert fill.log_index == 1 and fill.timestamp == 1777000000


def test_the_taking_orders_own_event_names_the_exchange_as_taker() -> None:
    log = v2_log(side=1, maker_amount=330_000, taker_amount=155_100, taker=EXCHANGE)
    event = decode_order_filled(log)
    (fill,), _, _ = logs_batch([log], block_times={100: 1})

    assert event.role is Role.TAKER
    assert fill.side is Side.SELL
    assert fill.size == Shares(330_000) and fill.usdc == Usdc(155_100)
    assert fill.price == Decimal(155_100) / Decimal(330_000)  # 0.47


def test_v1_history_logs_decode_by_maker_asset() -> None:
    data = encode(["uint256"] * 5, [0, TOKEN, 5_000_000, 10_000_000, 0])
    log = {
        **v2_log(side=0, maker_amount=0, taker_amount=0),
        "topics": [ORDER_FILLED_V1, "0x" + "22" * 32, topic(LEADER), topic(OTHER)],
        "data": "0x" + data.hex(),
        "blockTimestamp": hex(1700000000),
    }
    (fill,), rejects, _ = logs_batch([log])
    assert rejects == []
    assert fill.side is Side.BUY and fill.size == Shares(10_000_000)
    assert fill.price == Decimal("0.5") and str(TOKEN) == fill.token_id


def test_identical_fills_in_one_transaction_number_by_log_index() -> None:
    late = v2_log(side=0, maker_amount=1_000_000, taker_amount=2_000_000, log_index=9)
    early = v2_log(side=0, maker_amount=1_000_000, taker_amount=2_000_000, log_index=3)

    fills, _, _ = logs_batch([late, early], block_times={100: 1})
    again, _, _ = logs_batch([early, late], block_times={100: 1})

    assert [f.log_index for f in fills] == [3, 9]
    assert fills[0].fill_id != fills[1].fill_id
    assert [f.fill_id for f in fills] == [f.fill_id for f in again]


def test_removed_unwatched_and_undecodable_logs_are_kept_apart() -> None:
    good = v2_log(side=0, maker_amount=1, taker_amount=2)
    removed = {**good, "removed": True}
    unwatched = v2_log(side=0, maker_amount=1, taker_amount=2, maker=OTHER, log_index=2)
    broken = {**good, "data": "0x1234", "logIndex": "0x5"}

    fills, rejects, ignored = logs_batch(
        [good, removed, unwatched, broken], block_times={100: 1}, watched={LEADER}
    )

    assert len(fills) == 1
    assert [r.field for r in rejects] == ["data"]
    assert ignored == {"removed_by_reorg": 1, "unwatched": 1}


def test_a_log_whose_block_time_is_unknown_is_rejected_not_guessed() -> None:
    _, rejects, _ = logs_batch([v2_log(side=0, maker_amount=1, taker_amount=2)])
    assert [r.field for r in rejects] == ["blockTimestamp"]


def test_chain_and_api_sightings_of_one_fill_share_its_id() -> None:
    from polytail.venue.normalize.activity import activity_batch  # noqa: PLC0415

    log = v2_log(side=0, maker_amount=8_000_000, taker_amount=10_000_000)
    row = {
        "type": "TRADE",
        "proxyWallet": LEADER,
        "asset": str(TOKEN),
        "side": "BUY",
        "size": 10,
        "price": 0.8,
        "usdcSize": 8,
        "timestamp": 1,
        "transactionHash": TX,
    }
    (chain,), _, _ = logs_batch([log], block_times={100: 1})
    (api,), _, _ = activity_batch([row])
    assert chain.fill_id == api.fill_id

"""Raw venue rows and logs for tests, turned into sightings by the real normalizers.

A fill in these tests is written the way the venue would report it (a Data API row, an
RTDS payload, an `OrderFilled` log), so every id a test sees is the id production code
would compute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode

from polytail.domain.fills import FeedSource, LeaderFill
from polytail.domain.money import format_units
from polytail.venue.normalize.activity import activity_batch
from polytail.venue.normalize.logs import ORDER_FILLED_V2, logs_batch
from polytail.venue.normalize.rtds import fill_from_payload

EXCHANGE = "0xe111180000d2663c0091e4f400237545b87b996b"
TOKEN = "31580298928034717121287201018973507946553544207612680382558768593005033869136"
OTHER_TOKEN = "23834926535141172445445793018150793472721666534289369958790902744899333781511"
CONDITION = "0x0044717447f885ed54508627145cbf1ac113566c79af55428175f6d0c776949c"
COUNTERPARTY = "0x9fb96c5cf2027d0ce8e0e92fc30b52e81f001866"
T0 = 1_777_000_000


def wallet(number: int) -> str:
    return "0x" + f"{number:040x}"


def tx(number: int) -> str:
    return "0x" + f"{number:064x}"


@dataclass(frozen=True)
class Piece:
    """One wallet's part of a transaction, as one row or one event reports it."""

    tx: str
    wallet: str
    side: str
    shares: int  # base units
    price_micros: int = 500_000
    timestamp: int = T0
    token: str = TOKEN

    @property
    def usdc(self) -> int:
        return self.shares * self.price_micros // 1_000_000


def api_row(piece: Piece) -> dict[str, Any]:
    """A Data API v1 /activity row (numbers as exact decimal strings)."""
    return {
        "proxyWallet": piece.wallet,
        "timestamp": piece.timestamp,
        "conditionId": CONDITION,
        "type": "TRADE",
        "size": format_units(piece.shares),
        "usdcSize": format_units(piece.usdc),
        "transactionHash": piece.tx,
        "price": format_units(piece.price_micros),
        "asset": piece.token,
        "side": piece.side,
        "outcomeIndex": 1,
        "outcome": "Yes",
        "slug": "a-market",
    }


def log_of(
    piece: Piece, *, log_index: int, block: int = 100, taker: str = COUNTERPARTY
) -> dict[str, Any]:
    """An ExchangeV2 `OrderFilled` log of `piece` (taker = the exchange: the taking order)."""
    buy = piece.side == "BUY"
    data = encode(
        ["uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32"],
        [
            0 if buy else 1,
            int(piece.token),
            piece.usdc if buy else piece.shares,
            piece.shares if buy else piece.usdc,
            0,
            b"\0" * 32,
            b"\0" * 32,
        ],
    )
    return {
        "address": EXCHANGE,
        "topics": [
            ORDER_FILLED_V2,
            "0x" + f"{log_index:064x}",
            _topic(piece.wallet),
            _topic(taker),
        ],
        "data": "0x" + data.hex(),
        "blockNumber": hex(block),
        "blockTimestamp": hex(piece.timestamp),
        "transactionHash": piece.tx,
        "logIndex": hex(log_index),
        "removed": False,
    }


def _topic(address: str) -> str:
    return "0x" + "0" * 24 + address[2:]


def api_fills(pieces: Sequence[Piece], source: FeedSource = FeedSource.POLL) -> list[LeaderFill]:
    """One page walk of rows (occurrences numbered across the walk)."""
    batch = activity_batch([api_row(p) for p in pieces], source=source)
    assert not batch.rejects, batch.rejects
    return batch.fills


def stream_fill(piece: Piece) -> LeaderFill:
    fill = fill_from_payload({k: v for k, v in api_row(piece).items() if k != "usdcSize"})
    assert isinstance(fill, LeaderFill)
    return fill


def chain_fills(pieces: Sequence[Piece], *, takers: Sequence[bool] = ()) -> list[LeaderFill]:
    """One block range of logs, `takers[i]` marking the taking order's own event."""
    logs = [
        log_of(p, log_index=i, taker=EXCHANGE if i < len(takers) and takers[i] else COUNTERPARTY)
        for i, p in enumerate(pieces)
    ]
    batch = logs_batch(logs)
    assert not batch.rejects, batch.rejects
    return batch.fills

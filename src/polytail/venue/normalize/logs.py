"""Exchange `OrderFilled` logs (eth_getLogs / eth_subscribe) → decoded fills → `LeaderFill`.

Layouts (polymarket-api.md §6.1), topic1..3 = orderHash, maker, taker:

- V2 (CTF Exchange V2, NegRisk Exchange V2, since 2026-04-28): data = (uint8 side,
  uint256 tokenId, uint256 makerAmountFilled, uint256 takerAmountFilled, uint256 fee,
  bytes32 builder, bytes32 metadata). ExchangeV3 (Protocol V2 markets) is presumed to
  emit the same layout because it signs the same order struct. UNCERTAIN: not verified
  against a receipt; a different layout would fail decoding and surface as rejects.
- V1 (history before 2026-04-28): data = (uint256 makerAssetId, uint256 takerAssetId,
  uint256 makerAmountFilled, uint256 takerAmountFilled, uint256 fee);
  makerAssetId == 0 means the maker paid collateral: a BUY.

A wallet's fills are the events whose `maker` is that wallet: each order it placed,
resting or taking, emits exactly one. `side` is that order's side. BUY: the maker gave
pUSD (`makerAmountFilled`) and got shares (`takerAmountFilled`); SELL the reverse. The
taking order's own event names the exchange contract as `taker`: role TAKER; otherwise
the order rested: role MAKER.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from eth_abi.abi import decode

from polytail.domain.fills import FeedSource, LatencyStamps, LeaderFill, Role, Side
from polytail.domain.ids import Address, FillId, TokenId, TxHash
from polytail.domain.money import Shares, Usdc
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.common import (
    Ignored,
    Normalized,
    Occurrences,
    address_of,
    identity,
    run_batch,
    token_of,
    tx_of,
)

ORIGIN: Final = "chain OrderFilled"

ORDER_FILLED_V2: Final = "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee"
ORDER_FILLED_V1: Final = "0xd0a08e8c493f9c94f29311604c9de1b4e8c8d4c06bd0c789af57f2d65bfec0f6"
TOPICS: Final = (ORDER_FILLED_V2, ORDER_FILLED_V1)

_V2_TYPES: Final = ("uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32")
_V1_TYPES: Final = ("uint256", "uint256", "uint256", "uint256", "uint256")


@dataclass(frozen=True, slots=True)
class OrderFilled:
    """One decoded `OrderFilled` event, from the filled order's point of view."""

    version: int  # 2 (V2/V3 layout) or 1 (legacy)
    exchange: Address
    order_hash: str
    maker: Address
    taker: Address
    side: Side
    token_id: TokenId
    maker_amount: int
    taker_amount: int
    fee: int
    tx_hash: TxHash
    log_index: int
    block_number: int

    @property
    def shares(self) -> Shares:
        return Shares(self.taker_amount if self.side is Side.BUY else self.maker_amount)

    @property
    def usdc(self) -> Usdc:
        return Usdc(self.maker_amount if self.side is Side.BUY else self.taker_amount)

    @property
    def role(self) -> Role:
        return Role.TAKER if self.taker == self.exchange else Role.MAKER


def _hex_int(value: Any, key: str, log: Mapping[str, Any]) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise MalformedRow(ORIGIN, key, f"is not a hex quantity: {value!r}", log)


def _topic_address(topic: Any, key: str, log: Mapping[str, Any]) -> Address:
    if not isinstance(topic, str) or len(topic) != 66:
        raise MalformedRow(ORIGIN, key, f"is not a 32-byte topic: {topic!r}", log)
    return address_of("0x" + topic[-40:], key, ORIGIN, log)


def decode_order_filled(log: Mapping[str, Any]) -> OrderFilled:
    """Decode one log; raises `MalformedRow` naming the field that did not decode."""
    topics = log.get("topics")
    if not isinstance(topics, list) or len(topics) != 4:
        raise MalformedRow(ORIGIN, "topics", "must hold 4 topics", log)
    topic0 = str(topics[0]).lower()
    if topic0 not in TOPICS:
        raise MalformedRow(ORIGIN, "topics", f"topic0 {topic0} is not OrderFilled", log)
    data = log.get("data")
    if not isinstance(data, str) or not data.startswith("0x"):
        raise MalformedRow(ORIGIN, "data", "is not hex data", log)
    try:
        raw = bytes.fromhex(data[2:])
        if topic0 == ORDER_FILLED_V2:
            side_raw, token, maker_amount, taker_amount, fee, _, _ = decode(_V2_TYPES, raw)
            if side_raw not in (0, 1):
                raise MalformedRow(ORIGIN, "data.side", f"is not 0 or 1: {side_raw}", log)
            side = Side.BUY if side_raw == 0 else Side.SELL
            version = 2
        else:
            maker_asset, taker_asset, maker_amount, taker_amount, fee = decode(_V1_TYPES, raw)
            side = Side.BUY if maker_asset == 0 else Side.SELL
            token = taker_asset if side is Side.BUY else maker_asset
            version = 1
    except MalformedRow:
        raise
    except Exception as error:  # eth-abi raises several unrelated types on short data
        raise MalformedRow(ORIGIN, "data", f"does not decode: {error}", log) from None
    return OrderFilled(
        version=version,
        exchange=address_of(log.get("address"), "address", ORIGIN, log),
        order_hash=str(topics[1]).lower(),
        maker=_topic_address(topics[2], "topics[2]", log),
        taker=_topic_address(topics[3], "topics[3]", log),
        side=side,
        token_id=token_of(token, "data.tokenId", ORIGIN, log),
        maker_amount=maker_amount,
        taker_amount=taker_amount,
        fee=fee,
        tx_hash=tx_of(log.get("transactionHash"), "transactionHash", ORIGIN, log),
        log_index=_hex_int(log.get("logIndex"), "logIndex", log),
        block_number=_hex_int(log.get("blockNumber"), "blockNumber", log),
    )


def fill_from_log(
    log: Mapping[str, Any],
    occurrences: Occurrences | None,
    *,
    block_times: Mapping[int, int] | None = None,
    watched: Collection[str] | None = None,
    received_ns: int = 0,
) -> LeaderFill | Ignored:
    if log.get("removed") is True:
        return Ignored("removed_by_reorg")
    event = decode_order_filled(log)
    if watched is not None and event.maker not in watched:
        return Ignored("unwatched")
    shares, usdc = event.shares, event.usdc
    if shares.units == 0:
        raise MalformedRow(ORIGIN, "data.amounts", "fill of zero shares", log)
    stamp = log.get("blockTimestamp")
    if stamp is not None:
        timestamp = _hex_int(stamp, "blockTimestamp", log)
    elif block_times is not None and event.block_number in block_times:
        timestamp = block_times[event.block_number]
    else:
        raise MalformedRow(ORIGIN, "blockTimestamp", "is unknown for this block", log)
    price = Decimal(usdc.units) / Decimal(shares.units)
    return LeaderFill(
        fill_id=FillId(
            identity(
                tx=event.tx_hash,
                wallet=event.maker,
                token=event.token_id,
                side=event.side,
                size=shares,
                price=price,
                timestamp=timestamp,
                occurrences=occurrences,
            )
        ),
        wallet=event.maker,
        side=event.side,
        token_id=event.token_id,
        condition_id=None,
        outcome_index=None,
        price=price,
        size=shares,
        usdc=usdc,
        timestamp=timestamp,
        tx_hash=event.tx_hash,
        source=FeedSource.CHAIN,
        log_index=event.log_index,
        role=event.role,
        # UNCERTAIN: the unit the fee is taken in per side is not documented; recorded
        # as pUSD base units (the samples' BUY fees are consistent with that).
        fee=Usdc(event.fee),
        stamps=LatencyStamps(venue_ms=timestamp * 1000, received_ns=received_ns),
    )


def _order(log: Any) -> tuple[int, int]:
    if not isinstance(log, Mapping):
        return (0, 0)
    try:
        return (int(str(log.get("blockNumber")), 16), int(str(log.get("logIndex")), 16))
    except ValueError:
        return (0, 0)


def logs_batch(
    logs: Iterable[Any],
    *,
    block_times: Mapping[int, int] | None = None,
    watched: Collection[str] | None = None,
    received_ns: int = 0,
) -> Normalized:
    """One block range of logs, numbered in (block, log index) order."""

    def convert(log: Any, occurrences: Occurrences) -> LeaderFill | Ignored:
        if not isinstance(log, Mapping):
            raise MalformedRow(ORIGIN, "log", "is not an object", log)
        return fill_from_log(
            log, occurrences, block_times=block_times, watched=watched, received_ns=received_ns
        )

    return run_batch(sorted(logs, key=_order), convert)

"""Data API trade-like rows → `LeaderFill`: `/activity`, `/trades` (v1 and v2), RTDS payloads.

All four shapes describe one fill of one wallet with the same facts under two spellings
(camelCase in v1 and RTDS, snake_case in v2), so one converter serves them all. Rows
that are not trades (REDEEM, MERGE, REWARD, rebates, deposits ..., `outcomeIndex: 999`
sentinels, rows without asset and side) are `Ignored`, never fills and never errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from polytail.domain.fills import FeedSource, LatencyStamps, LeaderFill
from polytail.domain.ids import FillId
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.common import (
    Ignored,
    Normalized,
    Occurrences,
    Row,
    address_of,
    identity,
    notional,
    optional_condition,
    optional_index,
    reported_price,
    run_batch,
    shares_of,
    side_of,
    timestamp_s,
    token_of,
    tx_of,
    usdc_of,
)

SENTINEL_OUTCOME_INDEX: Final = 999

_WALLET = ("proxyWallet", "proxy_wallet")
_ASSET = ("asset", "token_id", "asset_id")
_CONDITION = ("conditionId", "condition_id")
_INDEX = ("outcomeIndex", "outcome_index")
_TX = ("transactionHash", "transaction_hash")
_USDC = ("usdcSize", "usdc_size")
_EVENT_SLUG = ("eventSlug", "event_slug")


def _get(row: Row, keys: tuple[str, ...]) -> tuple[str, Any]:
    for key in keys:
        value = row.get(key)
        if value is not None and value != "":
            return key, value
    return keys[0], None


def trade_row(
    row: Any,
    occurrences: Occurrences | None,
    *,
    origin: str,
    source: FeedSource,
    received_ns: int = 0,
) -> LeaderFill | Ignored:
    """One row to a fill, or `Ignored`; raises `MalformedRow` naming the bad field."""
    if not isinstance(row, dict):
        raise MalformedRow(origin, "row", f"is not an object: {str(row)[:80]!r}", row)
    kind = row.get("type")
    if kind is not None and kind != "TRADE":
        return Ignored(str(kind).lower() or "untyped")
    _, index_value = _get(row, _INDEX)
    if index_value == SENTINEL_OUTCOME_INDEX:
        return Ignored("sentinel_999")
    asset_key, asset_value = _get(row, _ASSET)
    side_value = row.get("side")
    if asset_value is None and not side_value:
        return Ignored("no_asset_or_side")
    if asset_value is None:
        raise MalformedRow(origin, asset_key, "is missing", row)

    wallet_key, wallet_value = _get(row, _WALLET)
    wallet = address_of(wallet_value, wallet_key, origin, row)
    token = token_of(asset_value, asset_key, origin, row)
    side = side_of(side_value, "side", origin, row)
    price = reported_price(row.get("price"), "price", origin, row)
    size = shares_of(row.get("size"), "size", origin, row)
    if size.units == 0:
        raise MalformedRow(origin, "size", "is zero", row)
    usdc_key, usdc_value = _get(row, _USDC)
    usdc = (
        usdc_of(usdc_value, usdc_key, origin, row)
        if usdc_value is not None
        else notional(size, price)
    )
    timestamp = timestamp_s(row.get("timestamp"), "timestamp", origin, row)
    tx_key, tx_value = _get(row, _TX)
    tx = tx_of(tx_value, tx_key, origin, row) if tx_value is not None else None
    outcome_index = optional_index(row, _INDEX, origin) if index_value is not None else None
    return LeaderFill(
        fill_id=FillId(
            identity(
                tx=tx,
                wallet=wallet,
                token=token,
                side=side,
                size=size,
                price=price,
                timestamp=timestamp,
                occurrences=occurrences,
            )
        ),
        wallet=wallet,
        side=side,
        token_id=token,
        condition_id=optional_condition(row, _CONDITION, origin),
        outcome_index=outcome_index,
        price=price,
        size=size,
        usdc=usdc,
        timestamp=timestamp,
        tx_hash=tx,
        source=source,
        outcome=str(row.get("outcome") or ""),
        slug=str(row.get("slug") or ""),
        event_slug=str(_get(row, _EVENT_SLUG)[1] or ""),
        stamps=LatencyStamps(venue_ms=timestamp * 1000, received_ns=received_ns),
    )


def activity_batch(
    rows: Iterable[Any],
    *,
    source: FeedSource = FeedSource.POLL,
    received_ns: int = 0,
    origin: str = "data-api activity",
) -> Normalized:
    """One `/activity` (v1) or `/v2/activity` page walk: occurrences numbered per walk."""
    return run_batch(
        rows,
        lambda row, occ: trade_row(row, occ, origin=origin, source=source, received_ns=received_ns),
    )

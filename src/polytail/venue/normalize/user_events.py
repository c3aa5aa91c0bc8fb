"""CLOB user-channel events → `OwnTrade` (event_type `trade`) and `OrderEvent` (`order`).

Shapes: polymarket-api.md §5.2. A trade event carries the same fields as a `/data/trades`
record (plus `trade_owner`, `matchtime`, `timestamp`), so it becomes the same `OwnTrade`
the REST path produces and the broker turns both into fills with one function. Amounts
arrive as decimal strings and are parsed exactly; a malformed event raises `MalformedRow`
naming the field (the broker counts it and polling covers the fill).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from polytail.domain.ids import ConditionId, TokenId
from polytail.venue.normalize.common import (
    decimal_of,
    field_of,
    first_of,
    shares_of,
    side_of,
    timestamp_s,
)
from polytail.venue.trading import MakerFill, OwnTrade

SOURCE = "clob user channel"


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An `order` event: PLACEMENT, UPDATE (a fill) or CANCELLATION of one of our orders."""

    order_id: str
    kind: str
    status: str


def own_trade(event: dict[str, Any]) -> OwnTrade:
    """A `trade` event as the account's trade record."""
    makers = event.get("maker_orders") or []
    if not isinstance(makers, list):
        makers = []
    _, matched = first_of(event, ("matchtime", "match_time"), SOURCE)
    return OwnTrade(
        trade_id=str(field_of(event, "id", SOURCE)),
        status=str(field_of(event, "status", SOURCE)).upper(),
        side=side_of(field_of(event, "side", SOURCE), "side", SOURCE, event),
        token_id=TokenId(str(field_of(event, "asset_id", SOURCE))),
        condition_id=ConditionId(str(field_of(event, "market", SOURCE)).lower()),
        price=decimal_of(field_of(event, "price", SOURCE), "price", SOURCE, event),
        size=shares_of(field_of(event, "size", SOURCE), "size", SOURCE, event),
        trader_side=str(event.get("trader_side") or "TAKER").upper(),
        taker_order_id=str(field_of(event, "taker_order_id", SOURCE)),
        maker_order_ids=tuple(str(m.get("order_id", "")) for m in makers if isinstance(m, dict)),
        tx_hash=str(event.get("transaction_hash") or "") or None,
        matched_at=timestamp_s(matched, "match_time", SOURCE, event),
        maker_fills=tuple(
            MakerFill(
                order_id=str(field_of(m, "order_id", SOURCE)),
                maker_address=str(field_of(m, "maker_address", SOURCE)).lower(),
                shares=shares_of(field_of(m, "matched_amount", SOURCE), "matched_amount", SOURCE),
                price=decimal_of(field_of(m, "price", SOURCE), "price", SOURCE),
                side=side_of(field_of(m, "side", SOURCE), "side", SOURCE),
            )
            for m in makers
            if isinstance(m, dict)
        ),
    )


def order_event(event: dict[str, Any]) -> OrderEvent:
    return OrderEvent(
        order_id=str(field_of(event, "id", SOURCE)),
        kind=str(event.get("type") or "").upper(),
        status=str(event.get("status") or "").upper(),
    )

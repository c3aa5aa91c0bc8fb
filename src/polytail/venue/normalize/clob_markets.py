"""CLOB market payloads → `Market`: `/markets/{condition_id}` and compact `/clob-markets/{cid}`.

The CLOB names no protocol version. Its outcome ids are either CTF token ids (v1) or
Protocol V2 position ids, which the official SDK tells apart by encoding: a position id
has bits 40–103 zero, a CTF token id (a keccak hash) practically never does. That rule
decides the version here.

`/markets/{cid}` carries the resolution (`tokens[].winner`, `is_50_50_outcome`) but no
fee curve; the compact `/clob-markets` carries the fee curve (`fd`) but no labels.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from polytail.domain.ids import ConditionId, TokenId
from polytail.domain.market import (
    DEFAULT_MIN_SIZE,
    FeeSchedule,
    Market,
    MarketError,
    MarketVersion,
    Outcome,
    Resolution,
)
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.common import (
    Row,
    bool_of,
    condition_of,
    decimal_of,
    field_of,
    iso_seconds,
    shares_of,
    token_of,
)
from polytail.venue.normalize.gamma import checked_tick

ORIGIN: Final = "clob market"
_V2_RESERVED_BITS: Final = ((1 << 64) - 1) << 40


def looks_like_position_id(token: TokenId | str) -> bool:
    """True for a Protocol V2 position id (the SDK's rule: bits 40–103 are zero)."""
    return (int(token) & _V2_RESERVED_BITS) == 0


def version_of_ids(ids: tuple[TokenId, ...]) -> MarketVersion:
    return (
        MarketVersion.V2
        if ids and all(looks_like_position_id(token) for token in ids)
        else MarketVersion.V1
    )


def _tokens(raw: Row, key: str, id_key: str, label_key: str) -> list[tuple[TokenId, str, Any]]:
    tokens = field_of(raw, key, ORIGIN)
    if not isinstance(tokens, list) or not tokens:
        raise MalformedRow(ORIGIN, key, "is not a non-empty list", raw)
    parsed = []
    for index, token in enumerate(tokens):
        if not isinstance(token, dict):
            raise MalformedRow(ORIGIN, f"{key}[{index}]", "is not an object", raw)
        parsed.append(
            (
                token_of(token.get(id_key), f"{key}[{index}].{id_key}", ORIGIN, raw),
                str(token.get(label_key) or ""),
                token,
            )
        )
    return parsed


def market_from_clob(raw: Row) -> Market:
    """`GET /markets/{condition_id}`: the full CLOB market, with winners after resolution."""
    if not isinstance(raw, dict):
        raise MalformedRow(ORIGIN, "market", "is not an object", raw)
    cid = condition_of(field_of(raw, "condition_id", ORIGIN), "condition_id", ORIGIN, raw)
    tokens = _tokens(raw, "tokens", "token_id", "outcome")
    ids = tuple(token for token, _, _ in tokens)
    tick = checked_tick(
        field_of(raw, "minimum_tick_size", ORIGIN), "minimum_tick_size", ORIGIN, raw
    )
    min_size = raw.get("minimum_order_size")
    end = raw.get("end_date_iso")
    closed = bool_of(raw.get("closed", False), "closed", ORIGIN, raw)
    winners = [index for index, (_, _, token) in enumerate(tokens) if token.get("winner") is True]
    resolution: Resolution | None = None
    if len(winners) == 1:
        resolution = Resolution.winner(winners[0], len(tokens))
    elif closed and raw.get("is_50_50_outcome") is True:
        resolution = Resolution(tuple(Decimal(1) / len(tokens) for _ in tokens))
    tags = raw.get("tags")
    try:
        return Market(
            condition_id=cid,
            version=version_of_ids(ids),
            outcomes=tuple(
                Outcome(index, label, token) for index, (token, label, _) in enumerate(tokens)
            ),
            tick=tick,
            min_size=(
                shares_of(min_size, "minimum_order_size", ORIGIN, raw)
                if min_size not in (None, "")
                else DEFAULT_MIN_SIZE
            ),
            neg_risk=bool_of(raw.get("neg_risk", False), "neg_risk", ORIGIN, raw),
            end_date=iso_seconds(end, "end_date_iso", ORIGIN, raw) if end else None,
            question=str(raw.get("question") or ""),
            slug=str(raw.get("market_slug") or ""),
            tags=tuple(str(tag) for tag in tags) if isinstance(tags, list) else (),
            active=bool_of(raw.get("active", True), "active", ORIGIN, raw),
            closed=closed,
            accepting_orders=bool_of(
                raw.get("accepting_orders", True), "accepting_orders", ORIGIN, raw
            ),
            taker_delay=bool(raw.get("seconds_delay")),
            resolution=resolution,
        )
    except MarketError as error:
        raise MalformedRow(ORIGIN, "market", str(error), raw) from None


def fee_from_compact(raw: Row) -> FeeSchedule:
    """`fd: {r: rate, e: exponent, to: takerOnly}`; absent means no fee."""
    fee = raw.get("fd")
    if fee is None:
        return FeeSchedule.free()
    if not isinstance(fee, dict):
        raise MalformedRow(ORIGIN, "fd", "is not an object", raw)
    return FeeSchedule(
        rate=decimal_of(fee.get("r", 0), "fd.r", ORIGIN, raw),
        exponent=decimal_of(fee.get("e", 1), "fd.e", ORIGIN, raw),
        taker_only=bool_of(fee.get("to", True), "fd.to", ORIGIN, raw),
    )


def market_from_compact(raw: Row, condition: ConditionId | str) -> Market:
    """`GET /clob-markets/{condition_id}`: tokens, tick, minimum, neg-risk, fees, delay."""
    if not isinstance(raw, dict):
        raise MalformedRow(ORIGIN, "market", "is not an object", raw)
    cid = condition_of(condition, "condition_id", ORIGIN, raw)
    tokens = _tokens(raw, "t", "t", "o")
    ids = tuple(token for token, _, _ in tokens)
    min_size = raw.get("mos")
    try:
        return Market(
            condition_id=cid,
            version=version_of_ids(ids),
            outcomes=tuple(
                Outcome(index, label, token) for index, (token, label, _) in enumerate(tokens)
            ),
            tick=checked_tick(field_of(raw, "mts", ORIGIN), "mts", ORIGIN, raw),
            min_size=shares_of(min_size, "mos", ORIGIN, raw)
            if min_size not in (None, "")
            else DEFAULT_MIN_SIZE,
            neg_risk=bool_of(raw.get("nr", False), "nr", ORIGIN, raw),
            fees=fee_from_compact(raw),
            taker_delay=raw.get("itode") is True,
        )
    except MarketError as error:
        raise MalformedRow(ORIGIN, "market", str(error), raw) from None

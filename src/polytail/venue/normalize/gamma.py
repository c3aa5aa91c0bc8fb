"""Gamma market and event objects → `Market`.

Gamma encodes lists as JSON strings (`outcomes`, `outcomePrices`, `clobTokenIds`,
`positionIds`), names the protocol version in `version` (absent on payloads before about
September 2026, which are v1: `domain.market.infer_version`), and sometimes omits
`orderPriceMinTickSize` on markets nested in events: `gamma_tick` returns None then and
the caller fetches the tick from the CLOB (`GammaClient` does).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from polytail.domain.ids import TokenId
from polytail.domain.market import (
    DEFAULT_MIN_SIZE,
    FeeSchedule,
    Market,
    MarketError,
    MarketVersion,
    Outcome,
    Resolution,
    infer_version,
    outcome_ids_for_version,
)
from polytail.domain.money import Price
from polytail.domain.venue_rules import is_valid_tick
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.common import (
    Row,
    bool_of,
    condition_of,
    decimal_of,
    field_of,
    iso_seconds,
    json_list,
    shares_of,
    tick_price,
)

ORIGIN: Final = "gamma market"
_SETTLED_PAYOUTS: Final = frozenset({Decimal(0), Decimal("0.5"), Decimal(1)})


def gamma_tick(raw: Row) -> Price | None:
    """The market's tick from `orderPriceMinTickSize`, or None when Gamma left it out."""
    value = raw.get("orderPriceMinTickSize")
    if value is None or value == "":
        return None
    return checked_tick(value, "orderPriceMinTickSize", ORIGIN, raw)


def checked_tick(value: Any, key: str, origin: str, raw: Row) -> Price:
    tick = tick_price(value, key, origin, raw)
    if not is_valid_tick(tick):
        raise MalformedRow(origin, key, f"is not one of the venue's tick sizes: {value!r}", raw)
    return tick


def gamma_outcome_ids(raw: Row) -> tuple[MarketVersion, tuple[TokenId, ...]]:
    """The market's version and its outcome ids chosen by that version."""
    version = raw.get("version")
    clob_ids = _optional_list(raw, "clobTokenIds")
    position_ids = _optional_list(raw, "positionIds")
    try:
        parsed = infer_version(version, clob_ids, position_ids)
        ids = outcome_ids_for_version(version, clob_ids, position_ids)
    except (MarketError, ValueError) as error:
        key = "version" if "version" in str(error) else "clobTokenIds"
        raise MalformedRow(ORIGIN, key, str(error), raw) from None
    return parsed, ids


def _optional_list(raw: Row, key: str) -> list[str] | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    return [str(item) for item in json_list(value, key, ORIGIN, raw)]


def fee_schedule(raw: Row, origin: str = ORIGIN) -> FeeSchedule:
    """Gamma `feesEnabled` + `feeSchedule{rate, exponent, takerOnly, rebateRate}`."""
    enabled = raw.get("feesEnabled")
    if enabled is None or enabled is False:
        return FeeSchedule.free()
    schedule = raw.get("feeSchedule")
    if not isinstance(schedule, dict):
        raise MalformedRow(origin, "feeSchedule", "is missing while feesEnabled is true", raw)
    return FeeSchedule(
        rate=decimal_of(field_of(schedule, "rate", origin), "feeSchedule.rate", origin, raw),
        exponent=decimal_of(schedule.get("exponent", 1), "feeSchedule.exponent", origin, raw),
        taker_only=bool_of(schedule.get("takerOnly", True), "feeSchedule.takerOnly", origin, raw),
        rebate_rate=decimal_of(
            schedule.get("rebateRate", 0), "feeSchedule.rebateRate", origin, raw
        ),
    )


def _resolution(raw: Row, outcome_count: int) -> Resolution | None:
    """Resolved when closed, UMA says resolved (or says nothing), and prices settled."""
    if raw.get("closed") is not True:
        return None
    status = raw.get("umaResolutionStatus")
    if status not in (None, "", "resolved"):
        return None
    prices_raw = raw.get("outcomePrices")
    if not prices_raw:
        return None
    prices = [
        decimal_of(value, "outcomePrices", ORIGIN, raw)
        for value in json_list(prices_raw, "outcomePrices", ORIGIN, raw)
    ]
    if len(prices) != outcome_count or sum(prices) != 1:
        return None
    if any(price not in _SETTLED_PAYOUTS for price in prices):
        return None
    closed_time = raw.get("closedTime")
    resolved_at = iso_seconds(closed_time, "closedTime", ORIGIN, raw) if closed_time else None
    return Resolution(tuple(prices), resolved_at)


def _labels(tags: Any) -> list[str]:
    labels: list[str] = []
    if isinstance(tags, list):
        for tag in tags:
            if isinstance(tag, dict):
                label = tag.get("label") or tag.get("slug")
                if label:
                    labels.append(str(label))
            elif isinstance(tag, str) and tag:
                labels.append(tag)
    return labels


def market_from_gamma(raw: Row, *, tick: Price | None = None, event: Row | None = None) -> Market:
    """One Gamma market object; `tick` overrides a missing `orderPriceMinTickSize`.

    `event` is the parent event when the market came nested in one (its slug, category
    and tags apply to the market).
    """
    if not isinstance(raw, dict):
        raise MalformedRow(ORIGIN, "market", "is not an object", raw)
    cid = condition_of(field_of(raw, "conditionId", ORIGIN), "conditionId", ORIGIN, raw)
    version, ids = gamma_outcome_ids(raw)
    labels = [
        str(label)
        for label in json_list(field_of(raw, "outcomes", ORIGIN), "outcomes", ORIGIN, raw)
    ]
    if len(labels) != len(ids):
        raise MalformedRow(
            ORIGIN, "outcomes", f"has {len(labels)} labels for {len(ids)} outcome ids", raw
        )
    market_tick = gamma_tick(raw) or tick
    if market_tick is None:
        raise MalformedRow(
            ORIGIN, "orderPriceMinTickSize", "is missing; fetch the tick from the CLOB", raw
        )
    min_size_raw = raw.get("orderMinSize")
    parent = event or _first_event(raw)
    end = raw.get("endDate") or raw.get("endDateIso")
    tags = _labels(raw.get("tags")) + _labels(parent.get("tags") if parent else None)
    delay = raw.get("secondsDelay")
    try:
        return Market(
            condition_id=cid,
            version=version,
            outcomes=tuple(
                Outcome(index, label, token)
                for index, (label, token) in enumerate(zip(labels, ids, strict=True))
            ),
            tick=market_tick,
            min_size=(
                shares_of(min_size_raw, "orderMinSize", ORIGIN, raw)
                if min_size_raw not in (None, "")
                else DEFAULT_MIN_SIZE
            ),
            neg_risk=bool_of(raw.get("negRisk", False), "negRisk", ORIGIN, raw),
            fees=fee_schedule(raw),
            end_date=iso_seconds(end, "endDate", ORIGIN, raw) if end else None,
            question=str(raw.get("question") or ""),
            slug=str(raw.get("slug") or ""),
            event_slug=str(parent.get("slug") or "") if parent else "",
            category=str(raw.get("category") or (parent or {}).get("category") or ""),
            tags=tuple(dict.fromkeys(tags)),
            active=bool_of(raw.get("active", True), "active", ORIGIN, raw),
            closed=bool_of(raw.get("closed", False), "closed", ORIGIN, raw),
            accepting_orders=bool_of(
                raw.get("acceptingOrders", True), "acceptingOrders", ORIGIN, raw
            ),
            taker_delay=bool(delay) and decimal_of(delay, "secondsDelay", ORIGIN, raw) > 0,
            resolution=_resolution(raw, len(ids)),
        )
    except MarketError as error:
        raise MalformedRow(ORIGIN, "market", str(error), raw) from None


def _first_event(raw: Row) -> Row | None:
    events = raw.get("events")
    if isinstance(events, list) and events and isinstance(events[0], dict):
        first: Row = events[0]
        return first
    return None


def markets_from_event(
    event: Row, *, ticks: dict[str, Price] | None = None
) -> tuple[list[Market], list[MalformedRow]]:
    """Every market nested in a Gamma event; bad markets are returned as rejects.

    `ticks` maps condition id → tick for markets whose tick Gamma left out.
    """
    markets: list[Market] = []
    rejects: list[MalformedRow] = []
    nested = event.get("markets") if isinstance(event, dict) else None
    if not isinstance(nested, list):
        return markets, [MalformedRow("gamma event", "markets", "is not a list", event)]
    for raw in nested:
        cid = raw.get("conditionId") if isinstance(raw, dict) else None
        tick = (ticks or {}).get(str(cid).lower()) if cid else None
        try:
            markets.append(market_from_gamma(raw, tick=tick, event=event))
        except MalformedRow as error:
            rejects.append(error)
    return markets, rejects

"""Markets and events as the venue describes them: Gamma objects, CLOB market objects, ids.

A market is kept once (`Market`) and rendered in each service's shape. Markets seeded from
recorded Gamma or CLOB objects keep those objects and only have their live fields (prices,
state) overwritten, so every key the real venue sends is still there.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from eth_utils.crypto import keccak

from polytail.sim.money import UNIT, text
from polytail.sim.signing import exchange_for

V2_MODULE_BINARY = 1
V2_MODULE_NEG_RISK = 2


def derive_bytes(seed: int, *parts: object) -> bytes:
    """32 deterministic bytes for (seed, parts): every id in a run comes from here."""
    return keccak(("|".join([str(seed), *map(str, parts)])).encode())


def v1_condition_id(seed: int, slug: str) -> str:
    return "0x" + derive_bytes(seed, "condition", slug).hex()


def v1_token_id(condition_id: str, index: int) -> str:
    return str(int.from_bytes(derive_bytes(0, "token", condition_id, index), "big"))


def v2_condition_id(seed: int, slug: str, *, module: int) -> str:
    """A 31-byte Protocol V2 condition id: module byte first, bytes 19–26 zero.

    Its position ids (condition ‖ outcome byte) then have bits 40–103 clear, which is how
    clients tell them from CTF token ids (polymarket-api.md §1.2).
    """
    raw = bytearray(derive_bytes(seed, "v2condition", slug)[:31])
    raw[0] = module
    raw[19:27] = b"\x00" * 8
    return "0x" + raw.hex()


def v2_position_id(condition_id: str, index: int) -> str:
    return str(int(condition_id[2:], 16) << 8 | index)


def iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Event:
    id: str
    slug: str
    title: str
    neg_risk: bool = False
    markets: list[Market] = field(default_factory=list)
    raw: dict[str, Any] | None = None


@dataclass
class Market:
    condition_id: str
    slug: str
    question: str
    outcomes: list[str]
    token_ids: list[str]
    version: str = "v1"
    neg_risk: bool = False
    tick: int = 10_000
    min_size: int = 5 * UNIT
    fee_rate: Decimal = Decimal(0)
    fee_exponent: Decimal = Decimal(1)
    fee_type: str = ""
    gamma_id: str = "0"
    question_id: str = ""
    start_ts: int = 0
    end_ts: int = 0
    icon: str = ""
    description: str = ""
    group_item_title: str = ""
    event: Event | None = None
    raw_gamma: dict[str, Any] | None = None
    raw_clob: dict[str, Any] | None = None
    winner: int | None = None
    payouts: tuple[int, ...] | None = None
    resolved_at: int = 0

    @property
    def exchange(self) -> str:
        return exchange_for(version=self.version, neg_risk=self.neg_risk)[1]

    @property
    def domain_version(self) -> str:
        return exchange_for(version=self.version, neg_risk=self.neg_risk)[0]

    @property
    def closed(self) -> bool:
        return self.payouts is not None

    def outcome_index(self, token_id: str) -> int:
        return self.token_ids.index(token_id)

    def event_slug(self) -> str:
        return self.event.slug if self.event else self.slug

    def title(self) -> str:
        return self.question


def _json_list(values: list[str]) -> str:
    return json.dumps(values)


def gamma_market(
    market: Market,
    *,
    best_bid: int | None,
    best_ask: int | None,
    last_price: int | None,
    volume: int,
    nested: bool = False,
) -> dict[str, Any]:
    """A Gamma `/markets` object: every key the recorded objects carry, same value types."""
    created = iso(market.start_ts)
    prices = _outcome_prices(market, best_bid, best_ask, last_price)
    bid = best_bid / UNIT if best_bid is not None else 0.0
    ask = best_ask / UNIT if best_ask is not None else 1.0
    last = last_price / UNIT if last_price is not None else 0.0
    volume_num = volume / UNIT
    live: dict[str, Any] = {
        "id": market.gamma_id,
        "question": market.question,
        "conditionId": market.condition_id,
        "slug": market.slug,
        "outcomes": _json_list(market.outcomes),
        "outcomePrices": _json_list(prices),
        "active": True,
        "closed": market.closed,
        "archived": False,
        "acceptingOrders": not market.closed,
        "enableOrderBook": True,
        "negRisk": market.neg_risk,
        "orderPriceMinTickSize": float(text(market.tick)),
        "orderMinSize": _plain_number(market.min_size),
        "bestBid": bid,
        "bestAsk": ask,
        "spread": round(ask - bid, 6),
        "lastTradePrice": last,
        "volume": format(Decimal(volume) / UNIT, "f"),
        "volumeNum": volume_num,
        "volumeClob": volume_num,
        "umaResolutionStatuses": "[]" if not market.closed else '["resolved"]',
        "version": market.version,
    }
    if market.version == "v2":
        # Position ids are the tradable outcome ids; clients must pick by `version`.
        live["positionIds"] = _json_list(market.token_ids)
        live["clobTokenIds"] = "[]"
    else:
        live["clobTokenIds"] = _json_list(market.token_ids)
    if market.closed:
        live["closedTime"] = iso(market.resolved_at).replace("T", " ").replace("Z", "+00")
        live["umaResolutionStatus"] = "resolved"
    if market.raw_gamma is not None:
        body = copy.deepcopy(market.raw_gamma)
        body.update(live)
        if market.version != "v2":
            body.pop("positionIds", None)
        return body
    body = {
        "id": market.gamma_id,
        "question": market.question,
        "conditionId": market.condition_id,
        "slug": market.slug,
        "resolutionSource": "",
        "endDate": iso(market.end_ts),
        "liquidity": "0",
        "startDate": created,
        "image": market.icon,
        "icon": market.icon,
        "description": market.description,
        "outcomes": "",
        "outcomePrices": "",
        "volume": "0",
        "active": True,
        "closed": False,
        "marketMakerAddress": "",
        "createdAt": created,
        "updatedAt": created,
        "new": False,
        "featured": False,
        "submitted_by": "0x91430CaD2d3975766499717fA0D66A78D814E5c5",
        "archived": False,
        "resolvedBy": "0x6A9D222616C90FcA5754cd1333cFD9b7fb6a4F74",
        "restricted": True,
        "groupItemTitle": market.group_item_title,
        "groupItemThreshold": "0",
        "questionID": market.question_id,
        "enableOrderBook": True,
        "orderPriceMinTickSize": 0.01,
        "orderMinSize": 5,
        "volumeNum": 0.0,
        "liquidityNum": 0.0,
        "endDateIso": iso(market.end_ts)[:10],
        "startDateIso": created[:10],
        "hasReviewedDates": True,
        "volume24hr": volume_num,
        "volume1wk": volume_num,
        "volume1mo": volume_num,
        "volume1yr": volume_num,
        "volume24hrClob": volume_num,
        "volume1wkClob": volume_num,
        "volume1moClob": volume_num,
        "volume1yrClob": volume_num,
        "volumeClob": 0.0,
        "liquidityClob": 0.0,
        "customLiveness": 0,
        "acceptingOrders": True,
        "negRisk": False,
        "negRiskOther": False,
        "ready": False,
        "funded": False,
        "acceptingOrdersTimestamp": created,
        "cyom": False,
        "competitive": 0.0,
        "pagerDutyNotificationEnabled": False,
        "approved": True,
        "rewardsMinSize": 0,
        "rewardsMaxSpread": 0,
        "spread": 0.0,
        "oneDayPriceChange": 0.0,
        "oneWeekPriceChange": 0.0,
        "oneMonthPriceChange": 0.0,
        "lastTradePrice": 0.0,
        "bestBid": 0.0,
        "bestAsk": 1.0,
        "automaticallyActive": True,
        "clearBookOnStart": False,
        "seriesColor": "",
        "showGmpSeries": False,
        "showGmpOutcome": False,
        "manualActivation": False,
        "umaResolutionStatuses": "[]",
        "pendingDeployment": False,
        "deploying": False,
        "rfqEnabled": False,
        "holdingRewardsEnabled": False,
        "feesEnabled": market.fee_rate > 0,
        "requiresTranslation": False,
        "feeType": market.fee_type or None,
        "umaBond": "500",
        "umaReward": "5",
    }
    if market.fee_rate > 0:
        body["feeSchedule"] = {
            "exponent": _plain_number_decimal(market.fee_exponent),
            "rate": _plain_number_decimal(market.fee_rate),
            "takerOnly": True,
            "rebateRate": 0.2,
        }
    if market.neg_risk and market.event is not None:
        body["negRiskMarketID"] = "0x" + derive_bytes(0, "nrm", market.event.slug).hex()
        body["negRiskRequestID"] = "0x" + derive_bytes(0, "nrr", market.slug).hex()
    if not nested and market.event is not None:
        body["events"] = [gamma_event_stub(market.event)]
    body.update(live)
    return body


def gamma_event_stub(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "ticker": event.slug,
        "slug": event.slug,
        "title": event.title,
        "negRisk": event.neg_risk,
    }


def gamma_event(event: Event, markets: list[dict[str, Any]]) -> dict[str, Any]:
    first = event.markets[0] if event.markets else None
    start = iso(first.start_ts) if first else iso(0)
    end = iso(first.end_ts) if first else iso(0)
    closed = all(market.closed for market in event.markets) if event.markets else False
    live = {
        "id": event.id,
        "ticker": event.slug,
        "slug": event.slug,
        "title": event.title,
        "negRisk": event.neg_risk,
        "enableNegRisk": event.neg_risk,
        "closed": closed,
        "markets": markets,
    }
    if event.raw is not None:
        body = copy.deepcopy(event.raw)
        body.update(live)
        return body
    return {
        "id": event.id,
        "ticker": event.slug,
        "slug": event.slug,
        "title": event.title,
        "description": "",
        "resolutionSource": "",
        "startDate": start,
        "creationDate": start,
        "endDate": end,
        "image": "",
        "icon": "",
        "active": True,
        "closed": closed,
        "archived": False,
        "new": False,
        "featured": False,
        "restricted": True,
        "liquidity": 0.0,
        "volume": 0.0,
        "openInterest": 0,
        "createdAt": start,
        "updatedAt": start,
        "competitive": 0.0,
        "volume24hr": 0.0,
        "volume1wk": 0.0,
        "volume1mo": 0.0,
        "volume1yr": 0.0,
        "enableOrderBook": True,
        "liquidityClob": 0.0,
        "negRisk": event.neg_risk,
        "commentCount": 0,
        "cyom": False,
        "showAllOutcomes": True,
        "showMarketImages": True,
        "enableNegRisk": event.neg_risk,
        "automaticallyActive": True,
        "negRiskAugmented": False,
        "pendingDeployment": False,
        "deploying": False,
        "requiresTranslation": False,
        "gmpChartMode": "default",
        "cumulativeMarkets": False,
        "eventMetadata": {},
        "tags": [],
        **live,
    }


def clob_market(market: Market, *, prices: list[int]) -> dict[str, Any]:
    """A CLOB `/markets/{condition_id}` object (snake_case), as recorded."""
    tokens = [
        {
            "token_id": token,
            "outcome": outcome,
            "price": _plain_number(price),
            "winner": market.winner == index,
        }
        for index, (token, outcome, price) in enumerate(
            zip(market.token_ids, market.outcomes, prices, strict=True)
        )
    ]
    live = {
        "enable_order_book": True,
        "active": True,
        "closed": market.closed,
        "archived": False,
        "accepting_orders": not market.closed,
        "minimum_order_size": _plain_number(market.min_size),
        "minimum_tick_size": float(text(market.tick)),
        "condition_id": market.condition_id,
        "question_id": market.question_id,
        "question": market.question,
        "market_slug": market.slug,
        "neg_risk": market.neg_risk,
        "tokens": tokens,
    }
    if market.raw_clob is not None:
        body = copy.deepcopy(market.raw_clob)
        body.update(live)
        return body
    return {
        "enable_order_book": True,
        "active": True,
        "closed": False,
        "archived": False,
        "accepting_orders": True,
        "accepting_order_timestamp": iso(market.start_ts),
        "minimum_order_size": 5,
        "minimum_tick_size": 0.01,
        "condition_id": market.condition_id,
        "question_id": market.question_id,
        "question": market.question,
        "description": market.description,
        "market_slug": market.slug,
        "end_date_iso": iso(market.end_ts),
        "game_start_time": None,
        "seconds_delay": 0,
        "fpmm": "",
        "maker_base_fee": 0,
        "taker_base_fee": 0,
        "notifications_enabled": True,
        "neg_risk": False,
        "neg_risk_market_id": "",
        "neg_risk_request_id": "",
        "icon": market.icon,
        "image": market.icon,
        "rewards": {"rates": None, "min_size": 0, "max_spread": 0},
        "is_50_50_outcome": False,
        "tokens": [],
        "tags": [],
        **live,
    }


def clob_market_compact(market: Market) -> dict[str, Any]:
    """`/clob-markets/{condition_id}`: the compact form the SDK reads when signing."""
    return {
        "c": market.condition_id,
        "t": [
            {"t": token, "o": outcome}
            for token, outcome in zip(market.token_ids, market.outcomes, strict=True)
        ],
        "mts": float(text(market.tick)),
        "mos": _plain_number(market.min_size),
        "nr": market.neg_risk,
        "fd": {"r": float(market.fee_rate), "e": float(market.fee_exponent), "to": True},
        "mbf": 0,
        "tbf": 0,
        "rfqe": False,
        "itode": False,
        "ibce": False,
        "oas": not market.closed,
        "gst": None,
        "r": None,
    }


def _outcome_prices(
    market: Market, best_bid: int | None, best_ask: int | None, last_price: int | None
) -> list[str]:
    if market.payouts is not None:
        return [text(payout) for payout in market.payouts]
    if best_bid is not None and best_ask is not None:
        mid = (best_bid + best_ask) // 2
    elif last_price is not None:
        mid = last_price
    else:
        mid = UNIT // 2
    if len(market.outcomes) != 2:
        return [text(mid)] * len(market.outcomes)
    return [text(mid), text(UNIT - mid)]


def _plain_number(amount: int) -> int | float:
    return amount // UNIT if amount % UNIT == 0 else amount / UNIT


def _plain_number_decimal(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)

"""Contract tests: the exchange's replies have the keys and value types of the real venue.

Where a real recorded payload exists in the shared data, the comparison is against it;
where none exists (Data API v2, RTDS), against the field lists of polymarket-api.md.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets

from polytail.sim.server import RunningSim

from .conftest import market

LEADER = "0x5555555555555555555555555555555555555555"


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return {str: "str", list: "list", dict: "dict", type(None): "null"}[type(value)]


def same_shape(sim_value: Any, real: Any, where: str, *, exact: bool = True) -> None:
    """Every recorded key is served, with the same JSON type (null matches anything)."""
    assert isinstance(sim_value, dict) and isinstance(real, dict), where
    missing = set(real) - set(sim_value)
    assert not missing, f"{where}: the sim lacks {sorted(missing)}"
    if exact:
        extra = set(sim_value) - set(real)
        assert not extra, f"{where}: the sim adds {sorted(extra)}"
    for key, value in real.items():
        ours = sim_value[key]
        if value is None or ours is None:
            continue
        assert kind(ours) == kind(value), f"{where}.{key}: {kind(ours)} != {kind(value)}"
        if isinstance(value, dict) and value and ours:
            same_shape(ours, value, f"{where}.{key}", exact=exact)
        if isinstance(value, list) and value and ours and isinstance(value[0], dict):
            same_shape(ours[0], value[0], f"{where}.{key}[0]", exact=exact)


@pytest.fixture(scope="module")
def traded(sim: RunningSim) -> dict[str, Any]:
    """A leader with an open position, a closed (redeemed) one, and some history."""
    sim.admin.fund(LEADER, pusd="1000", name="contract-leader")
    open_market = market(sim, "btc-above-150k-dec-31")
    sim.admin.trade(LEADER, open_market["token_ids"][0], "BUY", shares="40", price="0.45")
    closing = market(sim, "best-picture-glass-harbor")
    sim.admin.trade(LEADER, closing["token_ids"][0], "BUY", shares="15", price="0.40")
    sim.admin.resolve(closing["condition_id"], winner=1)
    sim.admin.redeem(LEADER, closing["condition_id"])
    return open_market


def get(sim: RunningSim, service: str, path: str, **params: Any) -> Any:
    response = httpx.get(sim.base_urls[service] + path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_data_api_v1_rows_match_the_recorded_rows(
    sim: RunningSim, traded: dict[str, Any], load_json: Callable[[str], Any]
) -> None:
    activity = get(sim, "data", "/activity", user=LEADER, type="TRADE")
    for real in load_json("pscanner/activity.json"):
        same_shape(activity[0], real, "activity")
    trades = get(sim, "data", "/trades", user=LEADER)
    for recording in ("polymarket-cli/trades.json", "Insider_Amy/trades.json"):
        same_shape(trades[0], load_json(recording)[0], f"trades vs {recording}")
    positions = get(sim, "data", "/positions", user=LEADER)
    for recording in ("pscanner/positions.json", "Insider_Amy/closed_positions.json"):
        same_shape(positions[0], load_json(recording)[0], f"positions vs {recording}")
    closed = get(sim, "data", "/closed-positions", user=LEADER)
    same_shape(closed[0], load_json("pscanner/closed_positions.json")[0], "closed-positions")
    board = get(sim, "data", "/lb/profit")
    same_shape(board[0], load_json("pscanner/leaderboard.json")[0], "leaderboard")


def test_gamma_objects_match_the_recorded_markets_and_events(
    sim: RunningSim, traded: dict[str, Any], load_json: Callable[[str], Any]
) -> None:
    recorded = [
        load_json("pscanner/market.json"),
        load_json("polymarket-cli/market_detail.json"),
        load_json("pscanner/event.json")["markets"][0],
    ]
    common = {key: recorded[0][key] for key in set.intersection(*(set(r) for r in recorded))}
    known = set().union(*(set(r) for r in recorded)) | {
        "version",
        "positionIds",
        "feeSchedule",
        "negRiskMarketID",
        "negRiskRequestID",
    }
    for slug in ("btc-above-150k-dec-31", "fed-cuts-in-december", "best-picture-glass-harbor"):
        ours = get(sim, "gamma", "/markets", slug=slug)[0]
        same_shape(ours, common, f"gamma market {slug}", exact=False)
        assert set(ours) <= known, sorted(set(ours) - known)
        ids = json.loads(ours["positionIds"] if ours["version"] == "v2" else ours["clobTokenIds"])
        assert ids == market(sim, slug)["token_ids"]
    event = get(sim, "gamma", "/events", slug="best-picture-2027")[0]
    real_event = load_json("pscanner/event.json")
    same_shape(
        {k: v for k, v in event.items() if k != "markets"},
        {k: v for k, v in real_event.items() if k != "markets"},
        "gamma event",
        exact=False,
    )
    assert len(event["markets"]) == 3 and event["negRisk"] is True


def test_clob_reads_match_the_recorded_replies(
    sim: RunningSim, traded: dict[str, Any], load_json: Callable[[str], Any]
) -> None:
    token = traded["token_ids"][0]
    same_shape(
        get(sim, "clob", "/book", token_id=token), load_json("polymarket-cli/book.json"), "book"
    )
    same_shape(
        get(sim, "clob", "/midpoint", token_id=token),
        load_json("polymarket-cli/midpoint.json"),
        "midpoint",
    )
    same_shape(
        get(sim, "clob", "/last-trade-price", token_id=token),
        load_json("polymarket-cli/last_trade_price.json"),
        "last-trade-price",
    )
    history = get(sim, "clob", "/prices-history", market=token, interval="max")
    same_shape(history, load_json("polymarket-cli/price_history.json"), "prices-history")
    assert history["history"], "the trade leaves a price point"
    ours = get(sim, "clob", f"/markets/{traded['condition_id']}")
    same_shape(ours, load_json("Insider_Amy/markets.json")[0], "clob market")
    book = get(sim, "clob", "/book", token_id=token)
    bids = [float(level["price"]) for level in book["bids"]]
    asks = [float(level["price"]) for level in book["asks"]]
    assert bids == sorted(bids) and asks == sorted(asks, reverse=True)  # best last, as recorded


V2_ACTIVITY = [
    "type",
    "proxy_wallet",
    "timestamp",
    "transaction_hash",
    "condition_id",
    "token_id",
    "side",
    "size",
    "usdc_size",
    "price",
    "outcome",
    "outcome_index",
    "title",
    "slug",
    "icon",
    "event_slug",
    "name",
    "pseudonym",
    "bio",
    "profile_image",
    "profile_image_optimized",
    "is_combo",
]
V2_TRADES = [
    "proxy_wallet",
    "token_id",
    "condition_id",
    "side",
    "size",
    "price",
    "timestamp",
    "transaction_hash",
    "title",
    "slug",
    "icon",
    "event_slug",
    "outcome",
    "outcome_index",
    "name",
    "pseudonym",
    "bio",
    "profile_image",
    "profile_image_optimized",
]
V2_POSITIONS = [
    "proxy_wallet",
    "token_id",
    "condition_id",
    "current_size",
    "avg_price",
    "entry_cost_usdc",
    "entry_fees_usdc",
    "total_cost_usdc",
    "current_price",
    "current_value",
    "total_size",
    "realized_pnl",
    "unrealized_pnl",
    "total_pnl",
    "percent_pnl",
    "percent_realized_pnl",
    "status",
    "redeemable",
    "mergeable",
    "negative_risk",
    "archived",
    "verified",
    "title",
    "slug",
    "icon",
    "event_slug",
    "outcome",
    "opposite_outcome",
    "opposite_token_id",
    "outcome_index",
    "event_id",
    "end_date",
    "last_event_at",
    "name",
    "profile_image",
]
RTDS = [
    "asset",
    "conditionId",
    "eventSlug",
    "slug",
    "title",
    "icon",
    "outcome",
    "outcomeIndex",
    "price",
    "side",
    "size",
    "timestamp",
    "transactionHash",
    "proxyWallet",
    "name",
    "pseudonym",
    "bio",
    "profileImage",
]


def test_data_api_v2_rows_carry_the_documented_fields(
    sim: RunningSim, traded: dict[str, Any]
) -> None:
    for path, fields in (
        ("/v2/activity", V2_ACTIVITY),
        ("/v2/trades", V2_TRADES),
        ("/v2/positions", V2_POSITIONS),
    ):
        page = get(sim, "data", path, user=LEADER)
        assert set(page) == {"data", "pagination"}
        assert set(page["data"][0]) == set(fields), path
    with pytest.raises(AssertionError):
        get(sim, "data", "/v2/activity", user=LEADER, offset=10)


async def test_rtds_frames_carry_the_documented_payload(
    sim: RunningSim, traded: dict[str, Any]
) -> None:
    async with websockets.connect(sim.base_urls["rtds_ws"]) as socket:
        await socket.send(
            json.dumps(
                {"action": "subscribe", "subscriptions": [{"topic": "activity", "type": "trades"}]}
            )
        )
        await asyncio.sleep(0.05)
        await asyncio.to_thread(
            sim.admin.trade, LEADER, traded["token_ids"][1], "BUY", shares="10", price="0.70"
        )
        async with asyncio.timeout(5):
            frame = json.loads(await socket.recv())
    assert set(frame) == {"topic", "type", "timestamp", "payload"}
    assert set(frame["payload"]) == set(RTDS)

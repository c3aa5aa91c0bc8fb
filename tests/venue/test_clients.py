"""Each REST client against a loopback venue serving the recorded payloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import orjson
import pytest
from eth_abi.abi import encode

from polytail.config.schema import VenueSettings
from polytail.domain.fills import FeedSource, Side
from polytail.domain.ids import Address, ConditionId, TokenId
from polytail.domain.money import Price
from polytail.venue.clients import VenueClients
from polytail.venue.normalize.logs import ORDER_FILLED_V2
from tests.venue.loopback import Reply, Stub, http_server, stub_app

KCH123 = Address("0x6a72f61820b26b1fe4d956e17b6dc2a1ea3033ee")


@pytest.fixture
async def venue() -> AsyncIterator[tuple[Stub, VenueClients]]:
    stub = Stub()
    async with http_server(stub_app(stub)) as url:
        settings = VenueSettings(
            clob_url=url, gamma_url=url, data_url=url, rpc_url=url + "/rpc", request_timeout_s=2
        )
        clients = VenueClients.from_settings(settings)
        yield stub, clients
        await clients.close()


async def test_gamma_market_falls_back_to_the_clob_for_a_missing_tick(
    venue: tuple[Stub, VenueClients], load_json: Any
) -> None:
    stub, clients = venue
    raw = dict(load_json("pscanner/market.json"))
    del raw["orderPriceMinTickSize"]
    stub.on("GET", "/markets", [raw])
    stub.on("GET", "/tick-size", {"minimum_tick_size": "0.001"})

    market = await clients.markets.get(ConditionId(raw["conditionId"]))

    assert market.tick == Price.parse("0.001")
    assert stub.requests("/markets")[0].params["condition_ids"] == [raw["conditionId"]]
    first_token = "8501497159083948713316135768103773293754490207922884688769443031624417212426"
    assert stub.requests("/tick-size")[0].params == {"token_id": [first_token]}
    assert clients.markets.peek_token(TokenId(first_token)) is market


async def test_an_unknown_gamma_market_is_loaded_from_the_clob(
    venue: tuple[Stub, VenueClients], load_json: Any
) -> None:
    stub, clients = venue
    raw = load_json("Insider_Amy/markets.json")[0]
    stub.on("GET", "/markets", [])
    stub.on("GET", f"/markets/{raw['condition_id']}", raw)
    market = await clients.markets.get(ConditionId(raw["condition_id"]))
    assert market.resolution is not None and market.resolution.winning_index == 1


async def test_v1_activity_walk_pages_by_offset_until_a_short_page(
    venue: tuple[Stub, VenueClients], load_json: Any
) -> None:
    stub, clients = venue
    rows = load_json("pscanner/activity.json")
    stub.on("GET", "/activity", rows[:4], rows[4:8], rows[8:])
    walk = await clients.data_v1.activity_fills(KCH123, start=1777000000, page_size=4)

    assert walk.pages == 3 and walk.rows == 10 and not walk.truncated
    assert len(walk.batch.fills) == 10
    offsets = [seen.params["offset"] for seen in stub.requests("/activity")]
    assert offsets == [["0"], ["4"], ["8"]]
    assert stub.requests("/activity")[0].params["type"] == ["TRADE"]


async def test_v1_trades_ask_for_maker_fills_too(
    venue: tuple[Stub, VenueClients], load_json: Any
) -> None:
    stub, clients = venue
    stub.on("GET", "/trades", load_json("polymarket-cli/trades.json"))
    walk = await clients.data_v1.trades_fills(KCH123, page_size=500)
    assert len(walk.batch.fills) == 3
    assert stub.requests("/trades")[0].params["takerOnly"] == ["false"]


async def test_v2_walk_follows_cursors_and_resends_the_same_filters(
    venue: tuple[Stub, VenueClients], load_json: Any
) -> None:
    # v2 envelope constructed from the documented shape (polymarket-api.md §4.2).
    stub, clients = venue
    v1 = load_json("pscanner/activity.json")

    def v2(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "TRADE",
            "proxy_wallet": row["proxyWallet"],
            "timestamp": row["timestamp"],
            "transaction_hash": row["transactionHash"],
            "condition_id": row["conditionId"],
            "token_id": row["asset"],
            "side": row["side"],
            "size": row["size"],
            "usdc_size": row["usdcSize"],
            "price": row["price"],
            "outcome_index": row["outcomeIndex"],
        }

    stub.on(
        "GET",
        "/v2/activity",
        {"data": [v2(r) for r in v1[:5]], "pagination": {"has_more": True, "next_cursor": "c1"}},
        {"data": [v2(r) for r in v1[5:]], "pagination": {"has_more": False, "next_cursor": None}},
    )
    walk = await clients.data_v2.activity_fills(KCH123, start=1777000000, page_size=5)

    assert walk.pages == 2 and len(walk.batch.fills) == 10
    first, second = stub.requests("/v2/activity")
    assert "cursor" not in first.params and second.params["cursor"] == ["c1"]
    assert {k: v for k, v in second.params.items() if k != "cursor"} == first.params
    assert first.params["start"] == ["1777000000"]


async def test_positions_value_and_leaderboard(
    venue: tuple[Stub, VenueClients], load_json: Any
) -> None:
    stub, clients = venue
    stub.on("GET", "/positions", load_json("pscanner/positions.json"))
    stub.on("GET", "/value", [{"user": KCH123, "value": 1234.5}])
    stub.on("GET", "/v2/value", {"data": {"proxy_wallet": KCH123, "value": "99.25"}})
    stub.on("GET", "/v1/leaderboard", load_json("pscanner/leaderboard.json"))

    positions, rejects = await clients.data_v1.positions(KCH123)
    assert len(positions) == 5 and rejects == []
    assert await clients.data_v1.value(KCH123) == Decimal("1234.5")
    assert await clients.data_v2.value(KCH123) == Decimal("99.25")
    board, _ = await clients.data_v1.leaderboard()
    assert board[2].name == "kch123"


async def test_chain_fills_query_by_maker_topic_and_fetch_block_times(
    venue: tuple[Stub, VenueClients],
) -> None:
    stub, clients = venue
    data = encode(
        ["uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32"],
        [0, 12345, 8_000_000, 10_000_000, 0, b"\0" * 32, b"\0" * 32],
    )
    log = {
        "address": "0xe111180000d2663c0091e4f400237545b87b996b",
        "topics": [
            ORDER_FILLED_V2,
            "0x" + "11" * 32,
            "0x" + "0" * 24 + KCH123[2:],
            "0x" + "0" * 64,
        ],
        "data": "0x" + data.hex(),
        "blockNumber": "0x64",
        "logIndex": "0x2",
        "transactionHash": "0x" + "ab" * 32,
    }

    async def rpc(request: Any) -> Any:
        body = await request.json()
        results = {
            "eth_blockNumber": "0x70",
            "eth_getLogs": [log],
            "eth_getBlockByNumber": {"timestamp": hex(1777000000)},
        }
        return Reply({"jsonrpc": "2.0", "id": body["id"], "result": results[body["method"]]})

    stub.on("POST", "/rpc", rpc)
    assert await clients.chain.block_number() == 0x70
    batch = await clients.chain.fills([KCH123], 0x60, 0x70)

    (fill,) = batch.fills
    assert fill.side is Side.BUY and fill.price == Decimal("0.8") and fill.timestamp == 1777000000
    assert fill.source is FeedSource.CHAIN
    calls = [orjson.loads(s.body) for s in stub.requests("/rpc")]
    get_logs = next(c for c in calls if c["method"] == "eth_getLogs")["params"][0]
    assert get_logs["topics"][2] == ["0x" + "0" * 24 + KCH123[2:]]
    assert (get_logs["fromBlock"], get_logs["toBlock"]) == ("0x60", "0x70")

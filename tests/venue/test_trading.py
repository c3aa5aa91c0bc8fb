"""The trading adapter drives the real SDK against a loopback CLOB and maps every reply."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from eth_account import Account

from polytail.config.schema import VenueSettings, WalletSettings, WalletType
from polytail.config.secrets import Secret
from polytail.domain.fills import Side
from polytail.domain.ids import AccountId, ClientOrderId, ConditionId, TokenId
from polytail.domain.market import Market, MarketVersion, Outcome
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.orders import OrderIntent, OrderType
from polytail.venue.errors import (
    Geoblocked,
    InsufficientBalance,
    InvalidSignature,
    NotFilled,
    OrderOutcomeUnknown,
    VersionMismatch,
)
from polytail.venue.resilience import RetryPolicy
from polytail.venue.trading import (
    ApiCredentials,
    LiveTrading,
    VenueOrderStatus,
    WalletMismatch,
)
from tests.venue.loopback import Reply, Stub, http_server, stub_app

KEY = "0x" + "4c" * 32
EOA = Account.from_key(KEY).address.lower()
API_KEY = "00000000-0000-4000-8000-000000000001"
CID = ConditionId("0x" + "ab" * 32)
YES = TokenId("31580298928034717121287201018973507946553544207612680382558768593005033869136")
NO = TokenId("11240144609794675088588251385750462152427779062609952137535104957577820876903")
MARKET = Market(
    condition_id=CID,
    version=MarketVersion.V1,
    outcomes=(Outcome(0, "Yes", YES), Outcome(1, "No", NO)),
    tick=Price.parse("0.01"),
)
FAST = RetryPolicy(idempotent=False, attempts=4, base_s=0.01, restart_base_s=0.02)
ACCEPTED = {
    "success": True,
    "errorMsg": "",
    "orderID": "0x" + "0d" * 32,
    "status": "live",
    "makingAmount": "0",
    "takingAmount": "0",
    "tradeIDs": [],
    "transactionsHashes": [],
}


def intent(
    order_type: OrderType = OrderType.GTC, side: Side = Side.BUY, token: TokenId = YES
) -> OrderIntent:
    return OrderIntent(
        client_id=ClientOrderId("pt-1"),
        account=AccountId("default"),
        intent_key="copy:f1",
        token_id=token,
        condition_id=CID,
        side=side,
        order_type=order_type,
        limit_price=Price.parse("0.5"),
        size=Shares.parse("10"),
        max_spend=Usdc.parse("5"),
        created_at_ms=0,
    )


def clob_stub() -> Stub:
    venue = Stub()
    venue.on("GET", "/auth/api-keys", {"apiKeys": [API_KEY]})
    venue.on("GET", f"/markets-by-token/{YES}", {"condition_id": CID})
    venue.on(
        "GET",
        f"/clob-markets/{CID}",
        {"t": [{"t": YES, "o": "Yes"}, {"t": NO, "o": "No"}], "mts": "0.01", "nr": False},
    )
    return venue


@pytest.fixture
async def venue() -> AsyncIterator[tuple[Stub, str]]:
    stub = clob_stub()
    async with http_server(stub_app(stub)) as url:
        yield stub, url


async def connect(
    url: str, *, timeout_s: float = 2.0, type_: WalletType = WalletType.EOA
) -> LiveTrading:
    return await LiveTrading.connect(
        venue=VenueSettings(clob_url=url, relayer_url=url, request_timeout_s=timeout_s),
        wallet=WalletSettings(address=EOA, type=type_),
        private_key=Secret(KEY),
        credentials=ApiCredentials(Secret(API_KEY), Secret("c2VjcmV0c2VjcmV0"), Secret("pass")),
        order_retry=FAST,
    )


def posted(stub: Stub) -> list[dict[str, Any]]:
    return [orjson.loads(seen.body) for seen in stub.requests("/order") if seen.method == "POST"]


async def test_a_gtc_buy_is_signed_by_the_sdk_and_accepted(venue: tuple[Stub, str]) -> None:
    stub, url = venue
    stub.on("POST", "/order", ACCEPTED)
    trading = await connect(url)
    placement = await trading.place(intent(), MARKET)
    await trading.close()

    assert placement.status is VenueOrderStatus.LIVE and placement.filled == Shares(0)
    (body,) = posted(stub)
    order = body["order"]
    assert body["orderType"] == "GTC" and body["owner"] == API_KEY
    assert order["tokenId"] == YES and order["side"] == "BUY"
    assert (order["makerAmount"], order["takerAmount"]) == ("5000000", "10000000")
    assert order["maker"].lower() == EOA and order["signatureType"] == 0
    assert order["signature"].startswith("0x") and len(order["signature"]) == 132
    headers = stub.requests("/order")[0].headers
    assert headers["poly_api_key"] == API_KEY and headers["poly_address"].lower() == EOA


async def test_a_fok_buy_reports_what_filled(venue: tuple[Stub, str]) -> None:
    stub, url = venue
    matched = {
        **ACCEPTED,
        "status": "matched",
        "makingAmount": "4.9",
        "takingAmount": "10",
        "tradeIDs": ["t1"],
    }
    stub.on("POST", "/order", matched)
    trading = await connect(url)
    placement = await trading.place(intent(OrderType.FOK), MARKET)
    await trading.close()

    assert placement.status is VenueOrderStatus.MATCHED
    assert placement.filled == Shares.parse("10") and placement.notional == Usdc.parse("4.9")
    assert placement.trade_ids == ("t1",)
    assert posted(stub)[0]["orderType"] == "FOK"


async def test_success_true_with_an_error_message_is_a_failure(venue: tuple[Stub, str]) -> None:
    stub, url = venue
    stub.on("POST", "/order", {**ACCEPTED, "errorMsg": "not enough balance / allowance"})
    trading = await connect(url)
    with pytest.raises(InsufficientBalance, match="polytail doctor"):
        await trading.place(intent(), MARKET)
    await trading.close()


async def test_a_delayed_order_is_accepted_with_its_id(venue: tuple[Stub, str]) -> None:
    stub, url = venue
    delayed = {
        **ACCEPTED,
        "status": "delayed",
        "errorMsg": "order match delayed due to market conditions",
    }
    stub.on("POST", "/order", delayed)
    trading = await connect(url)
    placement = await trading.place(intent(OrderType.FAK), MARKET)
    await trading.close()
    assert (
        placement.status is VenueOrderStatus.DELAYED and placement.order_id == ACCEPTED["orderID"]
    )


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply({"error": "invalid signature"}, 400), InvalidSignature),
        (Reply({"error": "Trading restricted in your region"}, 403), Geoblocked),
        (
            Reply(
                {
                    **ACCEPTED,
                    "success": False,
                    "orderID": "",
                    "status": "",
                    "errorMsg": "order couldn't be fully filled. "
                    "FOK orders are fully filled or killed.",
                }
            ),
            NotFilled,
        ),
    ],
)
async def test_rejections_map_to_typed_errors(
    venue: tuple[Stub, str], reply: Reply, error: type[Exception]
) -> None:
    stub, url = venue
    stub.on("POST", "/order", reply)
    trading = await connect(url)
    with pytest.raises(error):
        await trading.place(intent(OrderType.FOK), MARKET)
    await trading.close()
    assert len(posted(stub)) == 1  # rejections are answers: never resent


async def test_an_engine_restart_is_retried_because_nothing_was_taken(
    venue: tuple[Stub, str],
) -> None:
    stub, url = venue
    stub.on("POST", "/order", Reply({"error": "Too Early"}, 425), ACCEPTED)
    trading = await connect(url)
    placement = await trading.place(intent(), MARKET)
    await trading.close()
    assert placement.status is VenueOrderStatus.LIVE
    assert len(posted(stub)) == 2


async def test_a_timeout_after_sending_is_unknown_and_never_resent(
    venue: tuple[Stub, str],
) -> None:
    stub, url = venue
    stub.on("POST", "/order", Reply(ACCEPTED, delay_s=0.6))
    trading = await connect(url, timeout_s=0.3)
    with pytest.raises(OrderOutcomeUnknown, match="Do not resend"):
        await trading.place(intent(), MARKET)
    await trading.close()
    assert len(posted(stub)) == 1


async def test_an_id_that_contradicts_the_market_version_is_refused_before_signing(
    venue: tuple[Stub, str],
) -> None:
    _, url = venue
    v2_market = Market(
        condition_id=CID, version=MarketVersion.V2, outcomes=MARKET.outcomes, tick=MARKET.tick
    )
    trading = await connect(url)
    with pytest.raises(VersionMismatch, match="CTF token id"):
        await trading.place(intent(), v2_market)
    await trading.close()


async def test_a_wallet_type_that_does_not_derive_from_the_key_is_refused(
    venue: tuple[Stub, str],
) -> None:
    _, url = venue
    with pytest.raises(WalletMismatch, match=r"wallet\.type is 'proxy'"):
        await connect(url, type_=WalletType.PROXY)


async def test_cancel_balance_and_heartbeat_round_trips(venue: tuple[Stub, str]) -> None:
    stub, url = venue
    stub.on("DELETE", "/order", {"canceled": ["0x01"], "not_canceled": {"0x02": "already done"}})
    stub.on("GET", "/balance-allowance", {"balance": "12500000", "allowances": {"0xe1": "1"}})
    stub.on("GET", "/balance-allowance/update", {})
    stub.on(
        "POST",
        "/v1/heartbeats",
        Reply({"error_msg": "Invalid Heartbeat ID", "heartbeat_id": "hb-9"}, 400),
        {"heartbeat_id": "hb-10"},
    )
    trading = await connect(url)
    cancel = await trading.cancel("0x01")
    balance = await trading.refresh_balance()
    heartbeat = await trading.heartbeat()
    await trading.close()

    assert cancel.canceled == ("0x01",) and cancel.not_canceled == {"0x02": "already done"}
    assert balance.balance == 12_500_000
    update = stub.requests("/balance-allowance/update")[0]
    assert update.params == {"asset_type": ["COLLATERAL"], "signature_type": ["0"]}
    assert heartbeat == "hb-10"
    assert [orjson.loads(s.body) for s in stub.requests("/v1/heartbeats")] == [
        {"heartbeat_id": ""},
        {"heartbeat_id": "hb-9"},
    ]

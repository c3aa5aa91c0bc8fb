"""Every venue reply text maps to a typed error whose message says what to do."""

from __future__ import annotations

import pytest

from polytail.venue.errors import (
    AccountRestricted,
    ApiKeyMismatch,
    BelowMinimumSize,
    DuplicateOrder,
    Geoblocked,
    InsufficientBalance,
    InvalidExpiration,
    InvalidSignature,
    InvalidTick,
    MarketNotReady,
    NotFilled,
    OrderRejected,
    PostOnlyRejected,
    VersionMismatch,
    WalletNotAllowed,
    order_rejection,
)

# The texts as polymarket-api.md §1.7 and §8 record them.
CASES = [
    ("not enough balance / allowance", InsufficientBalance, "pUSD"),
    ("not enough balance / allowance: balance: 0", InsufficientBalance, "polytail doctor"),
    (
        "order 0xabc is invalid. Size (1.08) lower than the minimum: 5",
        BelowMinimumSize,
        "minimum",
    ),
    (
        "order 0xabc is invalid. Price (0.123) breaks minimum tick size rule: 0.01",
        InvalidTick,
        "tick",
    ),
    ("order couldn't be fully filled. FOK orders are fully filled or killed.", NotFilled, "FAK"),
    (
        "no orders found to match with FAK order. FAK orders are partially filled or killed if "
        "no match is found.",
        NotFilled,
        "liquidity",
    ),
    ("the market is not yet ready to process new orders", MarketNotReady, "skip"),
    ("invalid post-only order: order crosses book", PostOnlyRejected, "post-only"),
    (
        "post-only mode: only post-only orders and cancels are allowed",
        PostOnlyRejected,
        "2 minutes",
    ),
    ("invalid expiration", InvalidExpiration, "GTD"),
    ("order 0xabc is invalid. Duplicated.", DuplicateOrder, "reconcile"),
    (
        "Trading restricted in your region, please refer to available regions",
        Geoblocked,
        "geoblock",
    ),
    ("invalid order version", VersionMismatch, "polymarket-client"),
    ("order_version_mismatch", VersionMismatch, "version"),
    ("invalid signature", InvalidSignature, "wallet.type"),
    ("'0x6a72f61820b26b1fe4d956e17b6dc2a1ea3033ee' address banned", AccountRestricted, "support"),
    (
        "'0x6a72f61820b26b1fe4d956e17b6dc2a1ea3033ee' address in closed only mode",
        AccountRestricted,
        "closed-only",
    ),
    (
        "maker address not allowed, please use the deposit wallet flow",
        WalletNotAllowed,
        "wallet.type = 'deposit'",
    ),
    (
        "the order signer address has to be the address of the API KEY",
        ApiKeyMismatch,
        "Re-derive",
    ),
    ("the order owner has to be the owner of the API KEY", ApiKeyMismatch, "API key"),
]


@pytest.mark.parametrize(("text", "kind", "advice"), CASES)
def test_reply_text_maps_to_its_typed_error_with_operator_advice(
    text: str, kind: type[OrderRejected], advice: str
) -> None:
    error = order_rejection(text)
    assert type(error) is kind
    assert advice in str(error)
    assert text in str(error)  # the venue's own words are kept for the operator


def test_sdk_codes_are_used_when_the_text_is_unknown() -> None:
    assert type(order_rejection("something new", code="fok_not_filled")) is NotFilled
    assert type(order_rejection("something new", code="not_enough_balance")) is (
        InsufficientBalance
    )


def test_a_403_on_an_order_is_the_region_refusal() -> None:
    assert type(order_rejection("Forbidden", status=403)) is Geoblocked


def test_unknown_texts_stay_generic_and_keep_the_message() -> None:
    error = order_rejection("could not run the execution")
    assert type(error) is OrderRejected
    assert "could not run the execution" in str(error)

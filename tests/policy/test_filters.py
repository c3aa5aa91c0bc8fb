"""Every entry filter, and every input check, with the reason code a user will see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from polytail.domain.decisions import Action, ReasonCode
from polytail.domain.fills import Role, Side
from polytail.domain.market import MarketVersion, Resolution
from polytail.policy import Accumulator, LeaderView, Quote

from .support import (
    LEADER,
    NO,
    NOW_MS,
    NOW_S,
    OTHER,
    book,
    decide,
    fill,
    market,
    policy,
    portfolio,
    position,
)


@dataclass(frozen=True)
class Row:
    name: str
    expected: ReasonCode
    filters: dict[str, Any] = field(default_factory=dict)
    fill: dict[str, Any] = field(default_factory=dict)
    market: dict[str, Any] = field(default_factory=dict)
    book: dict[str, Any] = field(default_factory=dict)


DAY_S = 86_400

FILTERS = [
    Row("buys copied only when sides allow buys", ReasonCode.FILTER_SIDE, {"sides": "sells"}),
    Row(
        "maker fills skipped when only takers are copied",
        ReasonCode.FILTER_ROLE,
        {"roles": ["taker"]},
        {"role": Role.MAKER},
    ),
    Row(
        "fills of unknown role skipped when unknown is not listed",
        ReasonCode.FILTER_ROLE,
        {"roles": ["maker", "taker"]},
        {"role": Role.UNKNOWN},
    ),
    Row(
        "a fill seen too late is skipped",
        ReasonCode.FILTER_FILL_TOO_OLD,
        {"max_fill_age_s": 60},
        {"age_s": 61},
    ),
    Row(
        "a leader notional below the minimum is skipped",
        ReasonCode.FILTER_MIN_LEADER_NOTIONAL,
        {"min_leader_usdc": "50.01"},
        {"size": "100", "price_": "0.50"},
    ),
    Row("a price above the band is skipped", ReasonCode.FILTER_PRICE_BAND, {"price_max": "0.49"}),
    Row("a price below the band is skipped", ReasonCode.FILTER_PRICE_BAND, {"price_min": "0.51"}),
    Row(
        "a market version not listed is skipped",
        ReasonCode.FILTER_MARKET_VERSION,
        {"market_versions": ["v1"]},
    ),
    Row(
        "neg-risk markets are skipped when not allowed",
        ReasonCode.FILTER_NEG_RISK,
        {"allow_neg_risk": False},
        market={"neg_risk": True},
    ),
    Row(
        "a denied category is skipped whatever its case",
        ReasonCode.FILTER_CATEGORY,
        {"categories_deny": ["crypto"]},
    ),
    Row(
        "a category outside the allow list is skipped",
        ReasonCode.FILTER_CATEGORY,
        {"categories_allow": ["Sports"]},
    ),
    Row("a denied tag is skipped", ReasonCode.FILTER_TAG, {"tags_deny": ["bitcoin"]}),
    Row(
        "a market without an allowed tag is skipped", ReasonCode.FILTER_TAG, {"tags_allow": ["NBA"]}
    ),
    Row(
        "a denied slug keyword is skipped",
        ReasonCode.FILTER_SLUG_KEYWORD,
        {"slug_keywords_deny": ["updown-5m"]},
        market={"slug": "btc-updown-5m-1774165800"},
    ),
    Row(
        "a slug without an allowed keyword is skipped",
        ReasonCode.FILTER_SLUG_KEYWORD,
        {"slug_keywords_allow": ["nhl-"]},
    ),
    Row(
        "a market ending too far away is skipped",
        ReasonCode.FILTER_TIME_TO_RESOLUTION,
        {"max_days_to_resolution": "6.5"},
    ),
    Row(
        "a market without an end date fails a resolution window",
        ReasonCode.FILTER_TIME_TO_RESOLUTION,
        {"max_days_to_resolution": "30"},
        market={"end_date": None},
    ),
    Row(
        "a market about to end is skipped",
        ReasonCode.FILTER_MIN_TIME_LEFT,
        {"min_minutes_left": "5"},
        market={"end_date": NOW_S + 4 * 60 + 59},
    ),
    Row(
        "a wide spread is skipped",
        ReasonCode.FILTER_SPREAD,
        {"max_spread": "0.05"},
        book={"bids": (("0.44", "100"),)},
    ),
    Row(
        "a book with no bids has no spread and is skipped",
        ReasonCode.FILTER_SPREAD,
        {"max_spread": "0.05"},
        book={"bids": ()},
    ),
    Row(
        "too little depth within the copy price is skipped",
        ReasonCode.FILTER_BOOK_DEPTH,
        {"min_depth_usdc": "405.01"},
    ),  # 300 x 0.50 + 500 x 0.51 = 405 within 0.51
]


@pytest.mark.parametrize("row", FILTERS, ids=lambda row: row.name)
def test_each_filter_skips_with_its_reason(row: Row) -> None:
    decision = decide(
        policy(filters=row.filters),
        fill(**row.fill),
        Quote(market(**row.market), book(**row.book)),
    )
    assert decision.action is Action.SKIP
    assert decision.reasons == (row.expected,)
    assert decision.detail  # always a sentence for the user


PASSING = [
    Row("fill just inside the age limit", ReasonCode.COPIED, {"max_fill_age_s": 60}, {"age_s": 60}),
    Row("notional exactly at the minimum", ReasonCode.COPIED, {"min_leader_usdc": "50"}),
    Row(
        "price exactly at the band's edges",
        ReasonCode.COPIED,
        {"price_min": "0.50", "price_max": "0.50"},
    ),
    Row(
        "allowed category, tag and keyword",
        ReasonCode.COPIED,
        {
            "categories_allow": ["CRYPTO"],
            "tags_allow": ["bitcoin"],
            "slug_keywords_allow": ["bitcoin-above"],
        },
    ),
    Row(
        "end date with no resolution window: min time left only",
        ReasonCode.COPIED,
        {"min_minutes_left": "5"},
        market={"end_date": None},
    ),
    Row(
        "exactly the minimum time left",
        ReasonCode.COPIED,
        {"min_minutes_left": "5"},
        market={"end_date": NOW_S + 5 * 60},
    ),
    Row(
        "spread exactly at the maximum",
        ReasonCode.COPIED,
        {"max_spread": "0.05"},
        book={"bids": (("0.45", "100"),)},
    ),
    Row(
        "no spread limit tolerates an empty bid side",
        ReasonCode.COPIED,
        {"max_spread": None},
        book={"bids": ()},
    ),
    Row("depth exactly at the minimum", ReasonCode.COPIED, {"min_depth_usdc": "405"}),
    Row("neg-risk allowed by default", ReasonCode.COPIED, market={"neg_risk": True}),
    Row("v1 markets copied by default", ReasonCode.COPIED, market={"version": MarketVersion.V1}),
]


@pytest.mark.parametrize("row", PASSING, ids=lambda row: row.name)
def test_fills_at_the_edges_of_every_filter_are_copied(row: Row) -> None:
    decision = decide(
        policy(filters=row.filters),
        fill(**row.fill),
        Quote(market(**row.market), book(**row.book)),
    )
    assert decision.reasons[0] is ReasonCode.COPIED, decision.detail


def test_a_leader_override_applies_only_to_that_leader() -> None:
    rules = policy(
        leaders=[
            {"address": LEADER, "filters": {"price_max": "0.4"}},
            {"address": OTHER},
        ]
    )
    assert decide(rules, fill()).primary_reason is ReasonCode.FILTER_PRICE_BAND
    assert decide(rules, fill(wallet=OTHER)).primary_reason is ReasonCode.COPIED


def test_filters_do_not_stop_exits() -> None:
    """Entry filters would strand a position the leader is leaving: exits skip them."""
    rules = policy(
        filters={
            "price_max": "0.3",
            "max_fill_age_s": 1,
            "min_leader_usdc": "1000",
            "categories_deny": ["crypto"],
            "roles": ["maker"],
        }
    )
    held = portfolio(positions=[position({LEADER: ("100", "40")})])
    decision = decide(rules, fill(Side.SELL, "0.50", "100", age_s=600), portfolio_=held)
    assert decision.is_copy and decision.side is Side.SELL
    assert decision.reasons[0] is ReasonCode.EXIT_MIRROR


def test_sides_buys_only_ignores_leader_sells() -> None:
    held = portfolio(positions=[position({LEADER: ("100", "40")})])
    decision = decide(policy(filters={"sides": "buys"}), fill(Side.SELL), portfolio_=held)
    assert decision.reasons == (ReasonCode.FILTER_SIDE,)


# --- inputs -------------------------------------------------------------------------


def test_fills_of_wallets_not_watched_are_skipped() -> None:
    decision = decide(policy(), fill(wallet=OTHER))
    assert decision.reasons == (ReasonCode.LEADER_NOT_WATCHED,)
    disabled = policy(leader={"enabled": False})
    assert decide(disabled, fill()).reasons == (ReasonCode.LEADER_NOT_WATCHED,)


def test_a_paused_leader_is_not_copied_but_its_exits_are() -> None:
    paused = portfolio(positions=[position({LEADER: ("100", "40")})]).with_controls(
        paused_leaders=[LEADER]
    )
    assert decide(policy(), fill(), portfolio_=paused).reasons == (ReasonCode.LEADER_PAUSED,)
    assert decide(policy(), fill(Side.SELL), portfolio_=paused).is_copy


@pytest.mark.parametrize(
    ("quote_", "expected"),
    [
        (None, ReasonCode.MARKET_UNKNOWN),
        (Quote(market(resolution=Resolution.winner(0, 2)), book()), ReasonCode.MARKET_RESOLVED),
        (Quote(market(closed=True), book()), ReasonCode.MARKET_CLOSED),
        (Quote(market(accepting_orders=False), book()), ReasonCode.MARKET_CLOSED),
        (Quote(market(active=False), book()), ReasonCode.MARKET_CLOSED),
        (Quote(market(), None), ReasonCode.BOOK_UNAVAILABLE),
        (Quote(market(), book(token=NO)), ReasonCode.BOOK_UNAVAILABLE),
    ],
    ids=["unknown", "resolved", "closed", "not-accepting", "inactive", "no-book", "wrong-book"],
)
def test_unusable_markets_and_books_are_skipped(quote_: Quote | None, expected: ReasonCode) -> None:
    rules = policy()
    # A sell as well as a buy: exits need a tradable market too.
    held = portfolio(positions=[position({LEADER: ("100", "40")})])
    for side in (Side.BUY, Side.SELL):
        decision, _ = rules.decide(
            fill(side), quote_, held, LeaderView(), now_ms=NOW_MS, pending=Accumulator()
        )
        assert decision.reasons == (expected,), side


def test_a_token_that_is_not_an_outcome_of_the_market_is_unknown() -> None:
    stranger = "12345"
    decision = decide(policy(), fill(token=stranger), Quote(market(), book(token=stranger)))
    assert decision.reasons == (ReasonCode.MARKET_UNKNOWN,)
    assert stranger in decision.detail


def test_the_kill_switch_stops_buys_and_exits_before_anything_else() -> None:
    held = portfolio(positions=[position({LEADER: ("100", "40")})]).with_controls(kill_switch=True)
    rules = policy(filters={"price_max": "0.1"})  # a filter would fail too
    for side in (Side.BUY, Side.SELL):
        assert decide(rules, fill(side), portfolio_=held).reasons == (ReasonCode.KILL_SWITCH,)

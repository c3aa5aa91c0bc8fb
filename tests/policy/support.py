"""Builders for policy tests: a binary market, books, leader fills, portfolios, policies.

The defaults describe one ordinary situation, so a test changes only what it is about:
a crypto market with the venue's usual rules (tick 0.01, minimum 5 shares, taker fee
rate 0.07 as recorded on the BTC 5-minute markets), ending in a week; a book around
0.50; a leader (kch123's wallet) buying 100 shares at 0.50 five seconds ago; an account
with 1,000 pUSD and nothing at risk; the default configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from polytail.config.schema import PolytailConfig
from polytail.domain.book import Level, OrderBook
from polytail.domain.decisions import Decision
from polytail.domain.fills import FeedSource, LeaderFill, Role, Side
from polytail.domain.ids import (
    AccountId,
    Address,
    FillId,
    address,
    condition_id,
    token_id,
)
from polytail.domain.market import FeeSchedule, Market, MarketVersion, Outcome
from polytail.domain.money import Price, Shares, Usdc
from polytail.domain.positions import Position
from polytail.policy import Accumulator, LeaderView, Policy, PortfolioView, Quote, utc_day

LEADER = address("0x6a72f61820b26b1fe4d956e17b6dc2a1ea3033ee")  # kch123
OTHER = address("0x" + "b" * 40)
ACCOUNT = AccountId("default")
NOW_MS = 1_780_000_000_000  # 2026-05-28 20:26:40 UTC
NOW_S = NOW_MS // 1000
DAY = utc_day(NOW_MS)
YES = token_id("31580298928034717121287201018973507946553544207612680382558768593005033869136")
NO = token_id("72690798903588392269001731007662425920353908498880709179939493847828858696064")
CONDITION = condition_id("0x0044717447f885ed54508627145cbf1ac113566c79af55428175f6d0c776949c")
OTHER_CONDITION = condition_id("0x" + "2" * 64)
CRYPTO_FEES = FeeSchedule(rate=Decimal("0.07"), exponent=Decimal(1), rebate_rate=Decimal("0.2"))


def usdc(text: str) -> Usdc:
    return Usdc.parse(text)


def shares(text: str) -> Shares:
    return Shares.parse(text)


def price(text: str) -> Price:
    return Price.parse(text)


def market(**changes: Any) -> Market:
    base = Market(
        condition_id=CONDITION,
        version=MarketVersion.V2,
        outcomes=(Outcome(0, "Up", YES), Outcome(1, "Down", NO)),
        tick=price("0.01"),
        min_size=shares("5"),
        fees=FeeSchedule.free(),
        end_date=NOW_S + 7 * 86_400,
        question="Bitcoin above 100k on June 4?",
        slug="bitcoin-above-100k-on-june-4",
        event_slug="bitcoin-above-on-june-4",
        category="Crypto",
        tags=("Crypto", "Bitcoin"),
    )
    return replace(base, **changes)


def book(
    bids: Sequence[tuple[str, str]] = (("0.49", "300"), ("0.48", "500")),
    asks: Sequence[tuple[str, str]] = (("0.50", "300"), ("0.51", "500"), ("0.53", "1000")),
    token: str = YES,
    **changes: Any,
) -> OrderBook:
    return OrderBook(
        token_id(token),
        bids=tuple(Level(price(p), shares(s)) for p, s in bids),
        asks=tuple(Level(price(p), shares(s)) for p, s in asks),
        timestamp_ms=NOW_MS - 200,
        **changes,
    )


def quote(market_: Market | None = None, book_: OrderBook | None = None) -> Quote:
    return Quote(market() if market_ is None else market_, book() if book_ is None else book_)


_fill_numbers = iter(range(10**9))


def fill(
    side: Side = Side.BUY,
    price_: str = "0.50",
    size: str = "100",
    usdc_: str | None = None,
    *,
    age_s: int = 5,
    role: Role = Role.TAKER,
    token: str = YES,
    wallet: Address = LEADER,
    number: int | None = None,
) -> LeaderFill:
    """A leader fill; `usdc_` defaults to size x price."""
    notional = Decimal(size) * Decimal(price_) if usdc_ is None else Decimal(usdc_)
    n = next(_fill_numbers) if number is None else number
    return LeaderFill(
        fill_id=FillId(f"f{n:031x}"),
        wallet=wallet,
        side=side,
        token_id=token_id(token),
        condition_id=CONDITION,
        outcome_index=0 if token == YES else 1,
        price=Decimal(price_),
        size=shares(size),
        usdc=Usdc.parse(notional.quantize(Decimal("0.000001"))),
        timestamp=NOW_S - age_s,
        tx_hash=None,
        source=FeedSource.POLL,
        role=role,
    )


def config(
    leader: Mapping[str, Any] | None = None,
    leaders: Sequence[Mapping[str, Any]] | None = None,
    **sections: Mapping[str, Any],
) -> PolytailConfig:
    """The default configuration with one leader (LEADER) and overridden sections."""
    if leaders is None:
        leaders = [{"address": LEADER, **(leader or {})}]
    return PolytailConfig.model_validate({"leaders": list(leaders), **sections})


def policy(
    leader: Mapping[str, Any] | None = None,
    leaders: Sequence[Mapping[str, Any]] | None = None,
    **sections: Mapping[str, Any],
) -> Policy:
    return Policy.from_config(config(leader, leaders, **sections))


def position(
    lots: Mapping[Address, tuple[str, str]], token: str = YES, condition: str = CONDITION
) -> Position:
    """A position from lots given as {leader: (shares, cost)}."""
    held = Position(ACCOUNT, token_id(token), condition_id(condition), 0 if token == YES else 1)
    for leader, (amount, cost) in lots.items():
        held = held.bought(leader, shares(amount), usdc(cost), Usdc(0))
    return held


def portfolio(
    cash: str = "1000",
    *,
    equity: str | None = None,
    peak: str | None = None,
    positions: Sequence[Position] = (),
    **build: Any,
) -> PortfolioView:
    equity_ = usdc(cash if equity is None else equity)
    return PortfolioView.build(
        account=ACCOUNT,
        cash=usdc(cash),
        equity=equity_,
        peak_equity=equity_ if peak is None else usdc(peak),
        day=DAY,
        positions=positions,
        **build,
    )


def decide(
    policy_: Policy,
    fill_: LeaderFill,
    quote_: Quote | None = None,
    portfolio_: PortfolioView | None = None,
    leader: LeaderView | None = None,
    *,
    now_ms: int = NOW_MS,
    pending: Accumulator | None = None,
) -> Decision:
    decision, _ = decide_with_pending(
        policy_, fill_, quote_, portfolio_, leader, now_ms=now_ms, pending=pending
    )
    return decision


def decide_with_pending(
    policy_: Policy,
    fill_: LeaderFill,
    quote_: Quote | None = None,
    portfolio_: PortfolioView | None = None,
    leader: LeaderView | None = None,
    *,
    now_ms: int = NOW_MS,
    pending: Accumulator | None = None,
) -> tuple[Decision, Accumulator]:
    return policy_.decide(
        fill_,
        quote() if quote_ is None else quote_,
        portfolio() if portfolio_ is None else portfolio_,
        LeaderView() if leader is None else leader,
        now_ms=now_ms,
        pending=Accumulator() if pending is None else pending,
    )

"""The policy on recorded Polymarket data: kch123's fills, a real market's fee curve and a
real book. Venue floats are converted once, exactly as reported (`Decimal(repr(x))`)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from polytail.domain.book import Level, OrderBook
from polytail.domain.decisions import ReasonCode
from polytail.domain.fills import FeedSource, LeaderFill, Side
from polytail.domain.ids import address, condition_id, fill_id, token_id, tx_hash
from polytail.domain.market import FeeSchedule, Market, MarketVersion, Outcome
from polytail.domain.money import Price, Rounding, Shares, Usdc, cost_of
from polytail.domain.venue_rules import SIZE_STEP
from polytail.policy import Accumulator, LeaderView, Policy, Quote

from .support import config, portfolio


def exact(value: float | str) -> Decimal:
    """A venue number as the exact decimal it was printed as."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def recorded_fill(row: dict[str, Any]) -> LeaderFill:
    size = Shares.parse(exact(row["size"]), Rounding.DOWN)
    return LeaderFill(
        fill_id=fill_id(
            tx=tx_hash(row["transactionHash"]),
            wallet=address(row["proxyWallet"]),
            token=token_id(row["asset"]),
            side=row["side"],
            size=size,
            occurrence=0,
        ),
        wallet=address(row["proxyWallet"]),
        side=Side(row["side"]),
        token_id=token_id(row["asset"]),
        condition_id=condition_id(row["conditionId"]),
        outcome_index=row["outcomeIndex"],
        price=exact(row["price"]),
        size=size,
        usdc=Usdc.parse(exact(row["usdcSize"]), Rounding.HALF_EVEN),
        timestamp=row["timestamp"],
        tx_hash=tx_hash(row["transactionHash"]),
        source=FeedSource.POLL,
        slug=row["slug"],
        event_slug=row["eventSlug"],
    )


def gamma_fees(raw: dict[str, Any]) -> FeeSchedule:
    schedule = raw["feeSchedule"]
    return FeeSchedule(
        rate=exact(schedule["rate"]),
        exponent=exact(schedule["exponent"]),
        taker_only=schedule["takerOnly"],
        rebate_rate=exact(schedule["rebateRate"]),
    )


def test_kch123s_recorded_fills_copied_at_two_percent_until_the_outcome_cap(
    load_json: Any,
) -> None:
    """Replays kch123's ten recorded fills on "Oilers vs. Ducks" in time order: each copy
    is 2 % of the leader's notional; the tiny fills are below the venue's 1 pUSD; the
    outcome cap of 100 pUSD first shrinks a copy, then stops the next."""
    rows = sorted(load_json("pscanner/activity.json"), key=lambda row: row["timestamp"])
    first = rows[0]
    tokens = {row["outcomeIndex"]: row["asset"] for row in rows}
    game = Market(
        condition_id=condition_id(first["conditionId"]),
        version=MarketVersion.V1,
        outcomes=tuple(Outcome(i, ("Oilers", "Ducks")[i], token_id(tokens[i])) for i in (0, 1)),
        tick=Price.parse("0.01"),
        end_date=first["timestamp"] + 3 * 3600,
        slug=first["slug"],
        category="Sports",
    )
    rules = Policy.from_config(
        config(
            leader={"sizing": {"mode": "ratio", "ratio": "0.02"}},
            risk={"max_outcome_usdc": "100"},
        )
    )
    view, pending, reasons = portfolio("5000"), Accumulator(), []
    for seq, row in enumerate(rows):
        leader_fill = recorded_fill(row)
        touch = Price.parse(exact(row["price"]), Rounding.UP).round_to_tick(game.tick, Rounding.UP)
        book = OrderBook(
            leader_fill.token_id,
            bids=(Level(Price(touch.micros - 10_000), Shares.parse("5000")),),
            asks=(Level(touch, Shares.parse("5000")),),
        )
        now_ms = (row["timestamp"] + 2) * 1000
        decision, pending = rules.decide(
            leader_fill, Quote(game, book), view, LeaderView(), now_ms=now_ms, pending=pending
        )
        reasons.append(decision.reasons)
        if decision.is_copy:
            budget = (exact(row["usdcSize"]) * Decimal("0.02")).quantize(Decimal("0.000001"))
            assert Usdc.parse(decision.inputs["budget"]) <= Usdc.parse(budget)
            limit = (exact(row["price"]) * Decimal("1.02")).quantize(Decimal("0.01"), "ROUND_FLOOR")
            assert decision.limit_price == Price.parse(limit)
            assert decision.notional == cost_of(decision.size, Price.parse(limit))
            view = view.bought(
                token=leader_fill.token_id,
                condition=game.condition_id,
                outcome_index=row["outcomeIndex"],
                leader=leader_fill.wallet,
                shares=decision.size,
                notional=decision.notional,
                fee=decision.fee,
                seq=seq,
            )
        assert view.outcome_exposure_of(leader_fill.token_id) <= Usdc.parse("100")
    copied, below = (ReasonCode.COPIED,), (ReasonCode.SIZE_BELOW_MINIMUM,)
    assert reasons == [
        copied,  # 168.01 of the Oilers -> 3.36
        copied,  # 1,308.23 of the Ducks -> 26.16
        copied,  # 734.97 -> 14.70
        below,  # 8.69 -> 0.17
        below,  # 13.99 -> 0.28
        below,  # 22.42 -> 0.45
        copied,  # 2,029.54 -> 40.59: 81.45 on the Ducks
        (ReasonCode.COPIED, ReasonCode.RISK_OUTCOME_EXPOSURE),  # 39.19 -> the 18.55 left
        below,  # 18.06 -> 0.36
        (ReasonCode.RISK_OUTCOME_EXPOSURE,),  # 614.29 -> 12.29, but no room is left
    ]


def test_fee_aware_sizing_on_a_recorded_exponent_two_fee_curve(load_json: Any) -> None:
    """The BTC 5-minute market charges rate 0.25 x (p(1-p))^2: fee-aware sizing fits
    notional plus fee into the budget, exactly."""
    raw = load_json("polymarket-cli/market_detail.json")
    fees = gamma_fees(raw)
    assert (fees.rate, fees.exponent) == (Decimal("0.25"), Decimal(2))
    up, down = (token_id(value) for value in json.loads(raw["clobTokenIds"]))
    btc = Market(
        condition_id=condition_id(raw["conditionId"]),
        version=MarketVersion.V1,
        outcomes=(Outcome(0, "Up", up), Outcome(1, "Down", down)),
        tick=Price.parse(exact(raw["orderPriceMinTickSize"])),
        min_size=Shares.parse(exact(raw["orderMinSize"])),
        fees=fees,
        end_date=1774165800 + 300,
        slug=raw["slug"],
    )
    book = OrderBook(
        up,
        bids=(Level(Price.parse("0.499"), Shares.parse("800")),),
        asks=(Level(Price.parse("0.501"), Shares.parse("800")),),
    )
    leader_fill = LeaderFill(
        fill_id=fill_id(
            tx=tx_hash("0x" + "ab" * 32),
            wallet=address("0x" + "cd" * 20),
            token=up,
            side="BUY",
            size=Shares.parse("100"),
            occurrence=0,
        ),
        wallet=address("0x" + "cd" * 20),
        side=Side.BUY,
        token_id=up,
        condition_id=btc.condition_id,
        outcome_index=0,
        price=Decimal("0.5"),
        size=Shares.parse("100"),
        usdc=Usdc.parse("50"),
        timestamp=1774165900,
        tx_hash=None,
        source=FeedSource.STREAM,
    )
    rules = Policy.from_config(
        config(
            leader={"address": "0x" + "cd" * 20, "sizing": {"fixed_usdc": "20"}},
            filters={"min_minutes_left": "1"},  # a 5-minute market
        )
    )
    decision, _ = rules.decide(
        leader_fill,
        Quote(btc, book),
        portfolio(),
        LeaderView(),
        now_ms=1774165902_000,
        pending=Accumulator(),
    )
    assert decision.is_copy and decision.limit_price == Price.parse("0.51")
    worst = Price.parse("0.501")  # the range it can fill over is 0.501 .. 0.51
    fee = fees.taker_fee(decision.size, worst)
    assert decision.fee == fee
    assert decision.notional + fee <= Usdc.parse("20")
    more = decision.size + SIZE_STEP
    assert cost_of(more, decision.limit_price) + fees.taker_fee(more, worst) > Usdc.parse("20")
    # by hand: per share 0.51 + 0.25 x (0.501 x 0.499)^2 = 0.5256...; 20 / that = 38.05
    per_share = Decimal("0.51") + Decimal("0.25") * (Decimal("0.501") * Decimal("0.499")) ** 2
    assert decision.size == Shares.parse(
        (Decimal(20) / per_share).quantize(Decimal("0.01"), rounding="ROUND_FLOOR")
    )


def test_a_fill_seen_after_the_market_ended_is_not_copied(load_json: Any) -> None:
    """The recorded book was taken at 07:56:41, after the 07:55 end: nothing bids, the
    asks sit at 0.001-0.03. A fill decided then fails the time-left filter first."""
    raw_book = load_json("polymarket-cli/book.json")
    raw = load_json("polymarket-cli/market_detail.json")
    up = token_id(raw_book["asset_id"])
    book = OrderBook(
        up,
        bids=tuple(
            Level(Price.parse(level["price"]), Shares.parse(level["size"]))
            for level in reversed(raw_book["bids"])
        ),
        asks=tuple(
            Level(Price.parse(level["price"]), Shares.parse(level["size"]))
            for level in reversed(raw_book["asks"])
        ),
        timestamp_ms=int(raw_book["timestamp"]),
        tick=Price.parse(raw_book["tick_size"]),
        min_size=Shares.parse(raw_book["min_order_size"]),
    )
    down = token_id(json.loads(raw["clobTokenIds"])[1])
    btc = Market(
        condition_id=condition_id(raw["conditionId"]),
        version=MarketVersion.V1,
        outcomes=(Outcome(0, "Up", up), Outcome(1, "Down", down)),
        tick=Price.parse("0.001"),
        fees=gamma_fees(raw),
        end_date=1774165800 + 300,
        slug=raw["slug"],
    )
    wallet = address("0x" + "cd" * 20)
    late = LeaderFill(
        fill_id=fill_id(
            tx=tx_hash("0x" + "ef" * 32),
            wallet=wallet,
            token=up,
            side="BUY",
            size=Shares.parse("500"),
            occurrence=0,
        ),
        wallet=wallet,
        side=Side.BUY,
        token_id=up,
        condition_id=btc.condition_id,
        outcome_index=0,
        price=Decimal("0.005"),
        size=Shares.parse("500"),
        usdc=Usdc.parse("2.5"),
        timestamp=int(raw_book["timestamp"]) // 1000 - 10,
        tx_hash=None,
        source=FeedSource.STREAM,
    )
    rules = Policy.from_config(
        config(leader={"address": wallet}, filters={"price_min": "0", "max_spread": None})
    )
    decision, _ = rules.decide(
        late,
        Quote(btc, book),
        portfolio(),
        LeaderView(),
        now_ms=int(raw_book["timestamp"]),
        pending=Accumulator(),
    )
    assert decision.reasons == (ReasonCode.FILTER_MIN_TIME_LEFT,)
    assert decision.inputs["best_ask"] == "0.001" and decision.inputs["best_bid"] == "-"

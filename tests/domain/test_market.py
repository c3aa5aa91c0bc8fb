"""Markets: outcome ids chosen by version, fee curve, resolution payouts."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from polytail.domain.ids import ConditionId, TokenId
from polytail.domain.market import (
    FeeSchedule,
    Market,
    MarketError,
    MarketVersion,
    Outcome,
    Resolution,
    outcome_ids_for_version,
)
from polytail.domain.money import Price, Shares, Usdc


def test_version_decides_the_outcome_ids_even_when_both_lists_exist() -> None:
    assert outcome_ids_for_version("v1", ["11", "12"], ["21", "22"]) == ("11", "12")
    assert outcome_ids_for_version("v2", ["11", "12"], ["21", "22"]) == ("21", "22")


@pytest.mark.parametrize(
    ("version", "clob", "positions", "message"),
    [
        (None, ["1"], ["2"], "cannot tell v1 from v2"),
        (None, None, None, "no outcome ids"),
        ("v3", ["1"], None, "unknown market version"),
        ("v2", ["1", "2"], None, "no positionIds"),
        ("v1", None, ["1"], "no clobTokenIds"),
    ],
)
def test_missing_or_unknown_versions_are_errors(
    version: str | None, clob: list[str] | None, positions: list[str] | None, message: str
) -> None:
    with pytest.raises(MarketError, match=message):
        outcome_ids_for_version(version, clob, positions)


def test_real_gamma_market_outcome_ids(load_json: Any) -> None:
    # Recorded Gamma payloads predate the `version` field and carry only clobTokenIds:
    # they are CTF (v1) markets.
    raw = load_json("polymarket-cli/market_detail.json")
    assert "version" not in raw and "positionIds" not in raw
    ids = outcome_ids_for_version(raw.get("version"), json.loads(raw["clobTokenIds"]), None)
    assert ids[1] == "22943400237250229318795315882775337816951160275867284205243766113690886285726"


def test_taker_fee_on_the_crypto_curve() -> None:
    # The BTC 5-minute markets carry rate 0.07, exponent 1 (feeSchedule in the samples).
    fees = FeeSchedule(rate=Decimal("0.07"), exponent=Decimal(1))
    # 100 shares at 0.50: 100 x 0.07 x 0.25 = 1.75 pUSD exactly.
    assert fees.taker_fee(Shares.parse("100"), Price.parse("0.5")) == Usdc.parse("1.75")
    # 10 shares at 0.80: 10 x 0.07 x 0.16 = 0.112
    assert fees.taker_fee(Shares.parse("10"), Price.parse("0.8")) == Usdc.parse("0.112")
    # Inexact amounts round up (the payer's side).
    assert fees.taker_fee(Shares(1), Price.parse("0.5")) == Usdc(1)
    assert fees.maker_fee(Shares.parse("100"), Price.parse("0.5")) == Usdc(0)
    assert FeeSchedule.free().taker_fee(Shares.parse("100"), Price.parse("0.5")) == Usdc(0)


def test_fractional_exponents_round_up() -> None:
    fees = FeeSchedule(rate=Decimal("0.1"), exponent=Decimal("0.5"))
    fee = fees.taker_fee(Shares.parse("100"), Price.parse("0.5"))
    assert fee == Usdc.parse("5")  # 100 x 0.1 x sqrt(0.25)


def test_resolution_payouts() -> None:
    resolved = Resolution.winner(1, 2)
    assert resolved.winning_index == 1
    assert resolved.payout(1, Shares.parse("10")) == Usdc.parse("10")
    assert resolved.payout(0, Shares.parse("10")) == Usdc(0)
    split = Resolution((Decimal("0.5"), Decimal("0.5")))
    assert split.winning_index is None
    assert split.payout(0, Shares(3)) == Usdc(1)  # 1.5 base units rounds down
    with pytest.raises(MarketError):
        Resolution((Decimal("1.5"),))


def test_market_lookups_and_validation() -> None:
    outcomes = (Outcome(0, "Yes", TokenId("11")), Outcome(1, "No", TokenId("12")))
    market = Market(ConditionId("0x" + "1" * 64), MarketVersion.V1, outcomes, Price.parse("0.01"))
    assert market.outcome_for(TokenId("12")).label == "No"
    assert market.token_ids == ("11", "12")
    with pytest.raises(MarketError, match="not an outcome"):
        market.outcome_for(TokenId("13"))
    with pytest.raises(MarketError, match="invalid tick"):
        Market(ConditionId("0x" + "1" * 64), MarketVersion.V1, outcomes, Price(0))

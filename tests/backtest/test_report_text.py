"""Report amounts are exact decimal text, and never the confusing "-0"."""

from __future__ import annotations

from decimal import Decimal

from polytail.backtest.report import money, ratio


def test_amounts_print_to_the_base_unit() -> None:
    assert money(Decimal("1185147.5329634")) == "1185147.532963"
    assert money(Decimal("-1.5")) == "-1.500000"


def test_a_value_that_rounds_to_zero_prints_as_zero() -> None:
    # An exact copy's penalty is a hair below zero before rounding; it must read "0".
    assert money(Decimal("-0.0000001")) == "0.000000"
    assert ratio(Decimal("-0.00000001")) == "0.000000"

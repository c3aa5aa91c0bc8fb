"""Money is exact, typed, and rounds in the venue's direction."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polytail.domain.money import (
    SCALE,
    MoneyError,
    Price,
    Rounding,
    Shares,
    Usdc,
    cost_of,
    divide,
    format_units,
    notional,
    proceeds_of,
    shares_for,
    to_units,
)
from polytail.domain.venue_rules import (
    SIZE_STEP,
    TICK_SIZES,
    limit_order_amounts,
    round_size_down,
)

units = st.integers(min_value=0, max_value=10**15)  # up to a billion pUSD / shares
prices = st.integers(min_value=1, max_value=SCALE - 1).map(Price)


class TestConstruction:
    def test_parse_exact_decimal_text(self) -> None:
        assert Usdc.parse("12.5").units == 12_500_000
        assert Shares.parse("0.000001").units == 1
        assert Price.parse("0.55").micros == 550_000

    def test_more_than_six_decimals_needs_a_direction(self) -> None:
        with pytest.raises(MoneyError, match="more than 6 decimals"):
            Usdc.parse("0.0000001")
        assert Usdc.parse("0.0000001", Rounding.UP).units == 1
        assert Usdc.parse("0.0000019", Rounding.DOWN).units == 1
        assert Usdc.parse("0.0000015", Rounding.HALF_EVEN).units == 2

    def test_floats_are_refused(self) -> None:
        with pytest.raises(TypeError, match="float"):
            to_units(0.1)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            Usdc(1.0)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            Usdc(5).scale_by(0.5, Rounding.DOWN)  # type: ignore[arg-type]

    def test_non_numbers_are_refused(self) -> None:
        for bad in ("abc", "NaN", "Infinity", ""):
            with pytest.raises(MoneyError):
                Usdc.parse(bad)

    def test_prices_outside_zero_one_are_refused(self) -> None:
        with pytest.raises(MoneyError, match=r"\[0, 1\]"):
            Price.parse("1.01")
        with pytest.raises(MoneyError):
            Price(-1)

    def test_values_are_immutable(self) -> None:
        amount = Usdc(5)
        with pytest.raises(AttributeError):
            amount.units = 6  # type: ignore[misc]
        with pytest.raises(AttributeError):
            Price(5).micros = 6  # type: ignore[misc]

    def test_values_survive_pickling(self) -> None:
        for value in (Usdc(123), Shares(-4), Price(550_000)):
            assert pickle.loads(pickle.dumps(value)) == value

    def test_canonical_text(self) -> None:
        assert str(Usdc(12_500_000)) == "12.5"
        assert str(Usdc(0)) == "0"
        assert str(Usdc(-1)) == "-0.000001"
        assert format_units(3 * SCALE) == "3"
        assert repr(Shares(1_500_000)) == "Shares('1.5')"


class TestTypeSafety:
    def test_pusd_and_shares_do_not_mix(self) -> None:
        with pytest.raises(TypeError):
            Usdc(1) + Shares(1)  # type: ignore[operator]
        with pytest.raises(TypeError):
            assert Usdc(1) < Shares(1)  # type: ignore[operator]
        assert Usdc(1) != Shares(1)

    def test_prices_do_not_mix_with_amounts(self) -> None:
        with pytest.raises(TypeError):
            assert Price(1) < Usdc(1)  # type: ignore[operator]

    def test_whole_number_multiplication_only(self) -> None:
        assert Usdc(3).times(4) == Usdc(12)
        with pytest.raises(TypeError):
            Usdc(3).times(Decimal("1.5"))  # type: ignore[arg-type]


class TestRounding:
    def test_divide_directions(self) -> None:
        assert divide(7, 2, Rounding.DOWN) == 3
        assert divide(7, 2, Rounding.UP) == 4
        assert divide(-7, 2, Rounding.DOWN) == -4
        assert divide(-7, 2, Rounding.UP) == -3
        assert divide(5, 2, Rounding.HALF_EVEN) == 2
        assert divide(7, 2, Rounding.HALF_EVEN) == 4

    def test_buyer_pays_rounded_up_seller_receives_rounded_down(self) -> None:
        shares = Shares(3)  # 0.000003 shares
        price = Price(333_333)  # 0.333333
        assert cost_of(shares, price) == Usdc(1)  # 0.000000999999 -> up
        assert proceeds_of(shares, price) == Usdc(0)  # -> down

    def test_shares_bought_round_down(self) -> None:
        assert shares_for(Usdc(1_000_000), Price(300_000)) == Shares(3_333_333)
        with pytest.raises(MoneyError):
            shares_for(Usdc(1), Price(0))

    @given(units, prices)
    def test_rounding_never_creates_money(self, share_units: int, price: Price) -> None:
        shares = Shares(share_units)
        exact = Decimal(share_units) * Decimal(price.micros) / Decimal(SCALE)
        paid, received = cost_of(shares, price), proceeds_of(shares, price)
        assert Decimal(paid.units) >= exact  # the buyer never pays less than the value
        assert Decimal(received.units) <= exact  # the seller never gets more
        assert paid.units - received.units in (0, 1)  # within one base unit

    @given(units, prices)
    def test_round_trip_at_one_price_never_profits(self, usdc_units: int, price: Price) -> None:
        spent = Usdc(usdc_units)
        bought = shares_for(spent, price)
        assert cost_of(bought, price) <= spent
        assert proceeds_of(bought, price) <= spent

    @given(units, prices)
    def test_notional_matches_shares_times_price_within_one_unit(
        self, share_units: int, price: Price
    ) -> None:
        shares = Shares(share_units)
        exact = Decimal(share_units) * price.to_decimal()
        for rounding in (Rounding.UP, Rounding.DOWN, Rounding.HALF_EVEN):
            assert abs(Decimal(notional(shares, price, rounding).units) - exact) < 1

    @given(
        units, st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=10**6)
    )
    def test_scaling_respects_direction(
        self, amount: int, numerator: int, denominator: int
    ) -> None:
        value = Usdc(amount)
        exact = Decimal(amount) * numerator / denominator
        assert Decimal(value.scale(numerator, denominator, Rounding.DOWN).units) <= exact
        assert Decimal(value.scale(numerator, denominator, Rounding.UP).units) >= exact


class TestTicks:
    def test_every_venue_tick_is_exact(self) -> None:
        assert [str(tick) for tick in TICK_SIZES] == [
            "0.1",
            "0.01",
            "0.005",
            "0.0025",
            "0.001",
            "0.0001",
        ]

    def test_round_to_tick(self) -> None:
        tick = Price.parse("0.01")
        price = Price.parse("0.554")
        assert price.round_to_tick(tick, Rounding.DOWN) == Price.parse("0.55")
        assert price.round_to_tick(tick, Rounding.UP) == Price.parse("0.56")
        assert Price.parse("0.55").on_tick(tick)
        assert not price.on_tick(tick)

    def test_tradable_range_excludes_zero_and_one(self) -> None:
        tick = Price.parse("0.001")
        assert Price.parse("0.001").is_tradable(tick)
        assert Price.parse("0.999").is_tradable(tick)
        assert not Price.parse("0").is_tradable(tick)
        assert not Price.parse("1").is_tradable(tick)

    @given(st.sampled_from(TICK_SIZES), st.integers(min_value=0, max_value=SCALE))
    def test_snapping_lands_on_the_grid_in_the_right_direction(
        self, tick: Price, micros: int
    ) -> None:
        price = Price(micros)
        down = price.round_to_tick(tick, Rounding.DOWN)
        assert down.on_tick(tick) and down <= price
        if micros <= SCALE - tick.micros:
            up = price.round_to_tick(tick, Rounding.UP)
            assert up.on_tick(tick) and up >= price
            assert up.micros - down.micros in (0, tick.micros)


class TestVenueOrderAmounts:
    def test_sizes_snap_down_to_the_cent_share(self) -> None:
        assert round_size_down(Shares.parse("12.349999")) == Shares.parse("12.34")
        assert Shares.parse("0.01") == SIZE_STEP

    def test_limit_amounts_follow_the_side(self) -> None:
        # BUY 100 shares at 0.50: give 50 pUSD, take 100 shares (polymarket-api.md 1.7).
        assert limit_order_amounts("BUY", Price.parse("0.5"), Shares.parse("100")) == (
            50_000_000,
            100_000_000,
        )
        assert limit_order_amounts("SELL", Price.parse("0.5"), Shares.parse("100")) == (
            100_000_000,
            50_000_000,
        )

    @given(st.sampled_from(TICK_SIZES), st.integers(min_value=1, max_value=10**8))
    def test_limit_amounts_are_exact_on_the_grid(self, tick: Price, hundredths: int) -> None:
        size = Shares(hundredths * SIZE_STEP.units)
        price = Price(tick.micros)
        maker, taker = limit_order_amounts("BUY", price, size)
        assert Decimal(maker) == Decimal(size.units) * price.to_decimal()
        assert taker == size.units

    def test_off_step_sizes_are_refused(self) -> None:
        with pytest.raises(ValueError, match=r"0\.01 share step"):
            limit_order_amounts("BUY", Price.parse("0.5"), Shares(1))

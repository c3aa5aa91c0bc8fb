"""JSON for the API and webhooks: money stays exact, secrets are refused."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polytail.app.jsonable import jsonable
from polytail.app.services import KillSwitch, Pnl
from polytail.config.secrets import Secret
from polytail.domain.decisions import ReasonCode
from polytail.domain.money import Price, Shares, Usdc
from tests.support.samples import copy_decision, fill


def test_money_becomes_exact_decimal_strings() -> None:
    assert jsonable(Usdc.parse("12.5")) == "12.5"
    assert jsonable(Shares(1)) == "0.000001"
    assert jsonable(Price.parse("0.53")) == "0.53"
    assert jsonable(Decimal("1E-7")) == "0.0000001"
    assert jsonable(Decimal("120.500")) == "120.5"


def test_records_carry_their_fields_and_declared_derived_values() -> None:
    pnl = Pnl(Usdc.parse("1.5"), Usdc.parse("-2"))
    assert jsonable(pnl) == {"realized": "1.5", "unrealized": "-2", "total": "-0.5"}
    decision = jsonable(copy_decision(fill(), reasons=(ReasonCode.RISK_MAX_ORDER,)))
    assert isinstance(decision, dict)
    assert decision["reasons"] == ["copied", "risk_max_order"]
    assert decision["action"] == "copy" and decision["notional"] == "10.6"
    json.dumps(decision)  # the whole thing is plain JSON


def test_dates_and_nested_mappings() -> None:
    assert jsonable({"day": dt.date(2026, 1, 2), "k": KillSwitch(True, "cli", 5)}) == {
        "day": "2026-01-02",
        "k": {"engaged": True, "source": "cli", "since_ms": 5},
    }


def test_a_secret_has_no_json_form() -> None:
    with pytest.raises(TypeError, match="Secret"):
        jsonable({"token": Secret("hunter2-hunter2")})


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_amounts_round_trip_exactly(units: int) -> None:
    text = jsonable(Usdc(units))
    assert isinstance(text, str)
    assert Usdc.parse(text) == Usdc(units)

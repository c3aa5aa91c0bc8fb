"""The service layer's shared rules: finding a leader, explaining reasons, valuing positions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polytail.app.services import (
    REASON_TEXT,
    PositionView,
    UnknownLeader,
    explain,
    find_leader,
)
from polytail.domain.decisions import ReasonCode
from polytail.domain.ids import Address
from polytail.domain.money import Shares, Usdc
from tests.support.samples import ALICE, BOB
from tests.support.service import alice_position, leader_view

CAROL = Address("0x" + "a1" * 3 + "ff" * 17)  # shares ALICE's first 8 characters
LEADERS = (leader_view(ALICE, "alice"), leader_view(BOB, "Bob"), leader_view(CAROL, "carol"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (ALICE, ALICE),
        (ALICE.upper().replace("0X", "0x"), ALICE),
        ("bob", BOB),
        ("  BOB ", BOB),
        (BOB[:8], BOB),
    ],
)
def test_a_leader_is_found_by_address_label_or_unique_prefix(query: str, expected: str) -> None:
    assert find_leader(LEADERS, query).address == expected


def test_an_ambiguous_prefix_is_refused_and_names_the_choices() -> None:
    with pytest.raises(UnknownLeader, match="several") as error:
        find_leader(LEADERS, ALICE[:8])
    assert "alice" in str(error.value) and "carol" in str(error.value)


def test_an_unknown_leader_names_the_watched_ones() -> None:
    with pytest.raises(UnknownLeader, match="no watched leader matches 'dave'") as error:
        find_leader(LEADERS, "dave")
    assert "Bob (" + BOB + ")" in str(error.value)


def test_a_short_prefix_is_not_enough() -> None:
    with pytest.raises(UnknownLeader):
        find_leader(LEADERS, BOB[:4])


def test_every_reason_code_has_an_explanation() -> None:
    assert set(REASON_TEXT) == set(ReasonCode)
    assert explain(ReasonCode.FILTER_PRICE_BAND).startswith("the price was outside")


def test_a_position_view_values_the_position_without_flattering_it() -> None:
    position = alice_position(shares="3", cost="1")  # 3 shares for 1 pUSD
    view = PositionView.of(
        position, market="m", outcome="Yes", mark=Decimal("0.3333333"), labels={ALICE: "alice"}
    )
    assert view.market_value == Usdc.parse("0.999999")  # 0.9999999 rounded down
    assert view.unrealized_pnl == Usdc.parse("-0.000001")
    assert view.average_cost == Decimal("0.333333")
    assert [(s.label, s.shares) for s in view.by_leader] == [("alice", Shares.parse("3"))]


def test_a_position_without_a_mark_has_no_value_rather_than_a_guess() -> None:
    view = PositionView.of(alice_position(), market="m", outcome="Yes", mark=None, labels={})
    assert view.market_value is None and view.unrealized_pnl is None
    assert view.by_leader[0].label == ALICE  # no label known: the address

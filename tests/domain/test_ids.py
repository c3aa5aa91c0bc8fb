"""Identifiers are normalised once, and fill identity survives every feed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polytail.domain.ids import (
    IdError,
    address,
    client_order_id,
    condition_id,
    copy_intent_key,
    fill_id,
    tx_hash,
)
from polytail.domain.ids import token_id as make_token_id
from polytail.domain.money import Shares

TX = tx_hash("0x" + "ab" * 32)
WALLET = address("0x6a72f61820b26b1fe4d956e17b6dc2a1ea3033ee")
TOKEN = make_token_id(
    "31580298928034717121287201018973507946553544207612680382558768593005033869136"
)


def test_addresses_compare_equal_whatever_their_case() -> None:
    checksummed = "0x6A72F61820B26B1FE4D956E17B6DC2A1EA3033EE"
    assert address(checksummed) == address(checksummed.lower()) == WALLET


@pytest.mark.parametrize(
    "bad", ["", "0x123", "6a72f61820b26b1fe4d956e17b6dc2a1ea3033ee", "0x" + "g" * 40]
)
def test_malformed_addresses_name_the_problem(bad: str) -> None:
    with pytest.raises(IdError, match="not an address"):
        address(bad)


def test_condition_ids_accept_combo_length_and_reject_others() -> None:
    assert condition_id("0x" + "A" * 64) == "0x" + "a" * 64
    assert condition_id("0x03" + "0" * 60)  # 62-hex combo ids
    with pytest.raises(IdError):
        condition_id("0x" + "a" * 63)


def test_token_ids_are_canonical_decimal_text() -> None:
    assert make_token_id("0042") == "42"
    assert make_token_id(42) == "42"
    for bad in ("-1", "0", "1e5", "", str(2**256)):
        with pytest.raises(IdError):
            make_token_id(bad)


def _fill(size: int, occurrence: int = 0, side: str = "BUY", token: str = TOKEN) -> str:
    return fill_id(
        tx=TX,
        wallet=WALLET,
        token=make_token_id(token),
        side=side,
        size=Shares(size),
        occurrence=occurrence,
    )


def test_fill_id_is_deterministic() -> None:
    assert _fill(5_000_000) == _fill(5_000_000)


def test_fill_ids_in_one_transaction_are_distinct() -> None:
    # Several fills of one wallet in one transaction: different sizes, sides, outcomes,
    # and byte-identical fills told apart by their occurrence number.
    ids = {
        _fill(5_000_000),
        _fill(5_000_001),
        _fill(5_000_000, side="SELL"),
        _fill(5_000_000, token="7"),
        _fill(5_000_000, occurrence=1),
        _fill(5_000_000, occurrence=2),
    }
    assert len(ids) == 6


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=10**12),
            st.sampled_from(["BUY", "SELL"]),
            st.integers(min_value=1, max_value=10**6),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_fill_ids_are_unique_for_distinct_fills_of_one_transaction(
    fills: list[tuple[int, str, int]],
) -> None:
    # Number identical (size, side, token) rows by occurrence, as the feeds do.
    counts: dict[tuple[int, str, int], int] = {}
    ids = []
    for size, side, token in fills:
        occurrence = counts.get((size, side, token), 0)
        counts[(size, side, token)] = occurrence + 1
        ids.append(_fill(size, occurrence, side, str(token)))
    assert len(set(ids)) == len(ids)


def test_fill_id_refuses_nonsense() -> None:
    with pytest.raises(IdError):
        _fill(1, occurrence=-1)
    with pytest.raises(IdError):
        _fill(1, side="buy")


def test_client_order_ids_are_deterministic_per_account_and_intent() -> None:
    key = copy_intent_key(_fill(1))
    first = client_order_id("alice", key)  # type: ignore[arg-type]
    assert first == client_order_id("alice", key)  # type: ignore[arg-type]
    assert first != client_order_id("bob", key)  # type: ignore[arg-type]
    assert first.startswith("pt-")

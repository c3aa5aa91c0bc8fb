"""The tape: reference prices at a replay position, with whole-second venue time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polytail.backtest.tape import Tape
from polytail.domain.fills import FeedSource, LeaderFill, Side
from polytail.domain.ids import FillId, address, token_id
from polytail.domain.money import Shares, Usdc

YES, NO = token_id("1"), token_id("2")


def fill(n: int, token: str, price: str, second: int) -> LeaderFill:
    return LeaderFill(
        fill_id=FillId(f"f{n}"),
        wallet=address("0x" + "1" * 40),
        side=Side.BUY,
        token_id=token_id(token),
        condition_id=None,
        outcome_index=None,
        price=Decimal(price),
        size=Shares.parse(1),
        usdc=Usdc.parse(price),
        timestamp=second,
        tx_hash=None,
        source=FeedSource.REPLAY,
    )


TAPE = Tape([fill(0, "1", "0.40", 10), fill(1, "1", "0.41", 10), fill(2, "2", "0.60", 12)])


def test_a_copy_with_no_latency_sees_its_own_fill_even_inside_a_busy_second() -> None:
    assert TAPE.last_price(YES, 0) == Decimal("0.40")  # position 0, not the second's last


def test_latency_reveals_every_fill_printed_meanwhile() -> None:
    horizon = TAPE.horizon(0, 10_500)  # half a second later: the rest of second 10
    assert horizon == 1
    assert TAPE.last_price(YES, horizon) == Decimal("0.41")
    assert TAPE.last_price(NO, horizon) is None  # nothing traded there yet
    assert TAPE.last_price(NO, TAPE.horizon(0, 12_000)) == Decimal("0.60")


def test_the_horizon_never_goes_behind_the_copied_fill() -> None:
    assert TAPE.horizon(2, 0) == 2


def test_the_tape_refuses_fills_out_of_time_order() -> None:
    with pytest.raises(ValueError, match="venue-time order"):
        Tape([fill(0, "1", "0.4", 11), fill(1, "1", "0.4", 10)])

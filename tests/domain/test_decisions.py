"""`Decision` is immutable, validated, and built by a hand-written `__init__` that must
stay in step with its fields (it replaces the generated one on the hot path)."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from polytail.domain.decisions import Action, Decision, ReasonCode
from polytail.domain.fills import Side
from polytail.domain.ids import AccountId
from polytail.domain.money import Price, Shares, Usdc


def skip() -> Decision:
    return Decision(AccountId("a"), "k", Action.SKIP, (ReasonCode.FILTER_ROLE,), 1)


def test_init_takes_every_field_in_order_with_its_default() -> None:
    parameters = list(inspect.signature(Decision.__init__).parameters.values())[1:]
    fields = dataclasses.fields(Decision)
    assert [p.name for p in parameters] == [f.name for f in fields]
    for parameter, field in zip(parameters, fields, strict=True):
        if field.default is not dataclasses.MISSING:
            assert parameter.default == field.default, field.name
        elif field.default_factory is not dataclasses.MISSING:
            assert parameter.default is None, field.name  # None: a new default_factory()
        else:
            assert parameter.default is inspect.Parameter.empty, field.name


def test_defaults_match_the_fields() -> None:
    decision = skip()
    for field in dataclasses.fields(Decision)[5:]:
        expected = (
            field.default_factory()
            if field.default_factory is not dataclasses.MISSING
            else field.default
        )
        assert getattr(decision, field.name) == expected, field.name
    assert decision.inputs == {}
    assert decision.inputs is not skip().inputs  # a new dict each time


def test_a_decision_is_frozen_and_compares_by_value() -> None:
    decision = skip()
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.detail = "changed"  # type: ignore[misc]
    assert decision == skip()
    assert dataclasses.replace(decision, detail="x").detail == "x"
    assert "Decision(account='a'" in repr(decision)


def test_validation() -> None:
    with pytest.raises(ValueError, match="at least one reason"):
        Decision(AccountId("a"), "k", Action.SKIP, (), 1)
    with pytest.raises(ValueError, match="a skip carries no size"):
        Decision(AccountId("a"), "k", Action.SKIP, (ReasonCode.COPIED,), 1, size=Shares(1))
    with pytest.raises(ValueError, match="a copy needs"):
        Decision(AccountId("a"), "k", Action.COPY, (ReasonCode.COPIED,), 1, side=Side.BUY)
    copy = Decision(
        AccountId("a"),
        "k",
        Action.COPY,
        (ReasonCode.COPIED,),
        1,
        side=Side.BUY,
        size=Shares(5_000_000),
        limit_price=Price(500_000),
        notional=Usdc(2_500_000),
    )
    assert copy.is_copy
    assert copy.primary_reason is ReasonCode.COPIED

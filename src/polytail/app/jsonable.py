"""Service-layer results as JSON: one encoding for the HTTP API and the webhooks.

Money stays exact: `Usdc`, `Shares`, `Price` and `Decimal` become decimal strings
("12.5"), never JSON numbers, which most consumers parse as floats. Enums become their
values, dates ISO text, dataclasses objects of their fields plus the derived values they
list in `json_properties`. Anything else (a `Secret`, an arbitrary object) is refused
rather than guessed at.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

from polytail.domain.money import Price, Shares, Usdc

JsonValue = None | bool | int | float | str | list[Any] | dict[str, Any]


def jsonable(value: object) -> JsonValue:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Usdc | Shares | Price | Decimal):
        return str(value) if not isinstance(value, Decimal) else _decimal_text(value)
    if isinstance(value, float):
        return value  # counters and durations only: money never arrives here as a float
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        result = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in getattr(value, "json_properties", ()):
            result[name] = jsonable(getattr(value, name))
        return result
    if isinstance(value, Mapping):
        return {str(jsonable(key)): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    raise TypeError(f"{type(value).__name__} has no JSON form here")


def _decimal_text(value: Decimal) -> str:
    """Plain decimal text without an exponent ("0.00001", not "1E-5")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"

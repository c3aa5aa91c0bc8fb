"""The inputs a decision was computed from, rendered as text only when someone reads them.

Every decision records its facts (leader notional, book touch, caps remaining, ...) so
"why didn't it copy?" can be answered and the decision replayed. Formatting a dozen exact
amounts as text costs more than the decision itself, and most records are only written,
so `Facts` keeps the immutable values and renders `str(value)` on access. To a reader it
is a plain `Mapping[str, str]`; it compares equal to a dict with the same text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

NONE_TEXT: Final = "-"


def render(value: object) -> str:
    return NONE_TEXT if value is None else str(value)


class Facts(Mapping[str, str]):
    """An immutable name -> value record, read as text.

    Values must be immutable themselves (amounts, prices, Decimals, ints, strings,
    enums, None), so the record cannot change after the decision is made.
    """

    __slots__ = ("_values",)
    _values: dict[str, object]

    def __init__(self, values: dict[str, object]) -> None:
        self._values = values

    def __getitem__(self, key: str) -> str:
        return render(self._values[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Facts({dict(self.items())!r})"

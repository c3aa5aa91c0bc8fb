"""Exact parsing of the venue's loosely typed fields, shared by every normalizer.

The venue sends numbers as JSON floats, ints or strings (sometimes empty), addresses
checksummed or lowercase, timestamps in seconds, milliseconds or ISO text, and lists as
JSON inside strings. Each helper accepts the real variants, converts exactly once, and
raises `MalformedRow` naming the field otherwise.

Floats: a JSON float has already been rounded by the venue's encoder; `Decimal(repr(x))`
recovers exactly the shortest decimal that encoder meant (0.860000001148 stays
0.860000001148) without inventing binary noise digits.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NamedTuple

import orjson

from polytail.domain.fills import LeaderFill, Side
from polytail.domain.ids import (
    Address,
    ConditionId,
    IdError,
    TokenId,
    TxHash,
    address,
    condition_id,
    fill_id,
    fill_id_without_tx,
    token_id,
    tx_hash,
)
from polytail.domain.money import MoneyError, Price, Rounding, Shares, Usdc, to_units
from polytail.venue.errors import MalformedRow

Row = Mapping[str, Any]

_MS_THRESHOLD: Final = 100_000_000_000
"""Unix seconds stay below 1e11 until the year 5138; milliseconds passed it in 1973."""

_SIDES: Final = {"BUY": Side.BUY, "SELL": Side.SELL, "buy": Side.BUY, "sell": Side.SELL}


class Ignored(NamedTuple):
    """A row that is not a trade (REDEEM, REWARD, a 999 sentinel ...): never a fill."""

    reason: str


class Normalized(NamedTuple):
    """The result of normalising one batch: fills, rows kept for inspection, skips."""

    fills: list[LeaderFill]
    rejects: list[MalformedRow]
    ignored: Counter[str]


def field_of(row: Row, key: str, source: str) -> Any:
    try:
        value = row[key]
    except KeyError:
        raise MalformedRow(source, key, "is missing", row) from None
    except TypeError:
        raise MalformedRow(source, key, "cannot be read: the row is not an object", row) from None
    if value is None or value == "":
        raise MalformedRow(source, key, "is empty", row)
    return value


def first_of(row: Row, keys: tuple[str, ...], source: str) -> tuple[str, Any]:
    """The first present, non-empty value among spellings (camelCase v1, snake_case v2)."""
    for key in keys:
        value = row.get(key)
        if value is not None and value != "":
            return key, value
    raise MalformedRow(source, keys[0], "is missing", row)


def decimal_of(value: Any, key: str, source: str, row: Row | None = None) -> Decimal:
    if isinstance(value, bool):
        raise MalformedRow(source, key, f"is a boolean, not a number: {value!r}", row)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MalformedRow(source, key, f"is not a finite number: {value!r}", row)
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise MalformedRow(source, key, f"is not a number: {value!r}", row) from None
        if not parsed.is_finite():
            raise MalformedRow(source, key, f"is not a finite number: {value!r}", row)
        return parsed
    raise MalformedRow(source, key, f"is not a number: {value!r}", row)


def shares_of(value: Any, key: str, source: str, row: Row | None = None) -> Shares:
    """Shares in base units; reported decimals beyond 6 places round half-even."""
    amount = decimal_of(value, key, source, row)
    if amount < 0:
        raise MalformedRow(source, key, f"is negative: {value!r}", row)
    return Shares(to_units(amount, Rounding.HALF_EVEN))


def usdc_of(value: Any, key: str, source: str, row: Row | None = None) -> Usdc:
    amount = decimal_of(value, key, source, row)
    if amount < 0:
        raise MalformedRow(source, key, f"is negative: {value!r}", row)
    return Usdc(to_units(amount, Rounding.HALF_EVEN))


def reported_price(value: Any, key: str, source: str, row: Row | None = None) -> Decimal:
    """A reported execution price, exact, in [0, 1] (not necessarily on a tick)."""
    price = decimal_of(value, key, source, row)
    if not Decimal(0) <= price <= Decimal(1):
        raise MalformedRow(source, key, f"is outside [0, 1]: {value!r}", row)
    return price


def tick_price(value: Any, key: str, source: str, row: Row | None = None) -> Price:
    """A price that must be exact in micro-units (ticks, book levels)."""
    try:
        return Price(to_units(decimal_of(value, key, source, row)))
    except MoneyError as error:
        raise MalformedRow(source, key, f"is not a valid price: {error}", row) from None


def timestamp_s(value: Any, key: str, source: str, row: Row | None = None) -> int:
    """Unix seconds from seconds, milliseconds (detected by size) or ISO-8601 text."""
    if isinstance(value, str) and not value.strip().lstrip("-").replace(".", "", 1).isdigit():
        return iso_seconds(value, key, source, row)
    number = decimal_of(value, key, source, row)
    if number < 0:
        raise MalformedRow(source, key, f"is a negative timestamp: {value!r}", row)
    seconds = int(number) // 1000 if number >= _MS_THRESHOLD else int(number)
    return seconds


def iso_seconds(value: Any, key: str, source: str, row: Row | None = None) -> int:
    if not isinstance(value, str):
        raise MalformedRow(source, key, f"is not a date: {value!r}", row)
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("+00"):
        text += ":00"
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedRow(source, key, f"is not an ISO date: {value!r}", row) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


def side_of(value: Any, key: str, source: str, row: Row | None = None) -> Side:
    side = _SIDES.get(value) if isinstance(value, str) else None
    if side is None:
        if value in (0, 1) and not isinstance(value, bool):
            return Side.BUY if value == 0 else Side.SELL
        raise MalformedRow(source, key, f"is not BUY or SELL: {value!r}", row)
    return side


def _id(parse: Callable[[Any], Any], value: Any, key: str, source: str, row: Row | None) -> Any:
    try:
        return parse(value)
    except IdError as error:
        raise MalformedRow(source, key, str(error), row) from None


def address_of(value: Any, key: str, source: str, row: Row | None = None) -> Address:
    result: Address = _id(address, value, key, source, row)
    return result


def tx_of(value: Any, key: str, source: str, row: Row | None = None) -> TxHash:
    result: TxHash = _id(tx_hash, value, key, source, row)
    return result


def token_of(value: Any, key: str, source: str, row: Row | None = None) -> TokenId:
    result: TokenId = _id(token_id, value, key, source, row)
    return result


def condition_of(value: Any, key: str, source: str, row: Row | None = None) -> ConditionId:
    result: ConditionId = _id(condition_id, value, key, source, row)
    return result


def optional_condition(row: Row, keys: tuple[str, ...], source: str) -> ConditionId | None:
    for key in keys:
        value = row.get(key)
        if value:
            return condition_of(value, key, source, row)
    return None


def optional_index(row: Row, keys: tuple[str, ...], source: str) -> int | None:
    for key in keys:
        value = row.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise MalformedRow(source, key, f"is not an integer: {value!r}", row)
        try:
            return int(value)
        except ValueError:
            raise MalformedRow(source, key, f"is not an integer: {value!r}", row) from None
    return None


def json_list(value: Any, key: str, source: str, row: Row | None = None) -> list[Any]:
    """A list, or a list encoded as a JSON string (Gamma's `outcomes`, `clobTokenIds`)."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        try:
            decoded = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise MalformedRow(source, key, f"is not a JSON list: {value[:80]!r}", row) from None
        if isinstance(decoded, list):
            return decoded
    raise MalformedRow(source, key, f"is not a list: {str(value)[:80]!r}", row)


def bool_of(value: Any, key: str, source: str, row: Row | None = None) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "True", 1, "1"):
        return True
    if value in ("false", "False", 0, "0"):
        return False
    raise MalformedRow(source, key, f"is not a boolean: {value!r}", row)


class Occurrences:
    """Numbers identical fills inside one batch: 0, 1, 2 ... in the order they appear.

    One batch is one API page walk or one block range of logs. A page seen again in
    another walk restarts at 0, so it reproduces the same ids and dedupes.
    """

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str, str, int], int] = {}

    def next(self, tx: str, wallet: str, token: str, side: str, size_units: int) -> int:
        key = (tx, wallet, token, side, size_units)
        count = self._seen.get(key, 0)
        self._seen[key] = count + 1
        return count


SINGLE: Final = None
"""Pass as `occurrences` for a lone row (an RTDS frame): occurrence 0."""


def identity(
    *,
    tx: TxHash | None,
    wallet: Address,
    token: TokenId,
    side: Side,
    size: Shares,
    price: Decimal,
    timestamp: int,
    occurrences: Occurrences | None,
) -> str:
    """The fill id, numbering repeats through `occurrences` (None: a lone row)."""
    occurrence = (
        0
        if occurrences is None
        else occurrences.next(tx or "", wallet, token, side.value, size.units)
    )
    if tx is None:
        return fill_id_without_tx(
            wallet=wallet,
            token=token,
            side=side.value,
            size=size,
            price_text=str(price.normalize()),
            timestamp=timestamp,
            occurrence=occurrence,
        )
    return fill_id(
        tx=tx, wallet=wallet, token=token, side=side.value, size=size, occurrence=occurrence
    )


def notional(size: Shares, price: Decimal) -> Usdc:
    """shares x price rounded half-even: the notional when a source reports none."""
    return Usdc(to_units(size.to_decimal() * price, Rounding.HALF_EVEN))


def run_batch(
    rows: Iterable[Any],
    convert: Callable[[Any, Occurrences], LeaderFill | Ignored],
) -> Normalized:
    """Normalise every row; a malformed row is kept as a reject and the batch goes on."""
    occurrences = Occurrences()
    fills: list[LeaderFill] = []
    rejects: list[MalformedRow] = []
    ignored: Counter[str] = Counter()
    for row in rows:
        try:
            result = convert(row, occurrences)
        except MalformedRow as error:
            rejects.append(error)
            continue
        except (ValueError, TypeError, ArithmeticError, AttributeError) as error:
            # A shape no helper anticipated: keep the row, name the problem, go on.
            rejects.append(MalformedRow("row", "row", f"cannot be normalised: {error}", row))
            continue
        if isinstance(result, Ignored):
            ignored[result.reason] += 1
        else:
            fills.append(result)
    return Normalized(fills, rejects, ignored)

"""Recorded files as sightings: the formats a replay reads, told apart by their content.

- `activity` / `trades`: a JSON array of Data API rows (`proxyWallet` or `proxy_wallet`;
  `activity` when rows have `type` or `usdcSize`), the v2 `{data, pagination}` envelope,
  or a CSV export with the same columns;
- `logs`: `eth_getLogs` results, as a JSON array of logs or a JSON-RPC response (or a
  batch of responses);
- `rtds`: RTDS frames, one JSON object (or array) per line, or one JSON array.

Rows go through the venue normalizers, so a replayed fill has exactly the id the live
feed would give it. Occurrences (identical fills in one transaction) are numbered per
*contiguous run* of a file: a transaction whose rows reappear after other rows is a page
the recorder fetched twice (e.g. past the v1 offset cap), so its rows are numbered from 0
again and merge with the first copy, while identical rows side by side stay distinct
fills. A log that appears twice (same transaction and log index) is one event.

Logs need their block's time: `blockTimestamp` in each log (most nodes add it now);
logs without it are rejected with that reason.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import orjson

from polytail.domain.fills import FeedSource, LeaderFill
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.activity import activity_batch
from polytail.venue.normalize.common import Ignored, Normalized
from polytail.venue.normalize.logs import logs_batch
from polytail.venue.normalize.rtds import fill_from_payload
from polytail.venue.normalize.trades import trades_batch

_WALLET_KEYS: Final = ("proxyWallet", "proxy_wallet")
_TX_KEYS: Final = ("transactionHash", "transaction_hash")
_ACTIVITY_KEYS: Final = ("type", "usdcSize", "usdc_size")
_INTEGER_COLUMNS: Final = ("outcomeIndex", "outcome_index")


class ReplayFormatError(ValueError):
    """A file that cannot be replayed at all; the message says what it expected."""


@dataclass
class FileSightings:
    path: Path
    kind: str
    fills: list[LeaderFill] = field(default_factory=list)
    rejects: list[MalformedRow] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)
    rows: int = 0


def load(path: Path, watched: Collection[str] | None = None) -> FileSightings:
    """Read one file into sightings (source `replay`) of the `watched` wallets (None: all)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ReplayFormatError(f"{path}: cannot read ({error.strerror or error})") from None
    if not raw.strip():
        raise ReplayFormatError(f"{path}: the file is empty")
    head = raw.lstrip()[:1]
    if head in (b"[", b"{"):
        items, shape = _json_items(raw, path)
    else:
        items, shape = _csv_rows(raw, path), "csv"
    kind = _kind_of(items, path)
    found = FileSightings(path, f"{kind} ({shape})" if shape != "array" else kind, rows=len(items))
    origin = f"{path.name}"
    if kind == "logs":
        _add(found, logs_batch(_unique_logs(items), watched=watched), watched, replace_source=True)
    elif kind == "rtds":
        _add_frames(found, items, watched, origin)
    else:
        convert = activity_batch if kind == "activity" else trades_batch
        for run in contiguous_runs(items):
            _add(found, convert(run, source=FeedSource.REPLAY, origin=origin), watched)
    return found


def contiguous_runs(rows: list[Any]) -> list[list[Any]]:
    """Split rows where a transaction comes back after another one (a repeated page)."""
    runs: list[list[Any]] = [[]]
    finished: set[str] = set()
    current: str | None = None
    for row in rows:
        tx = _tx_of(row)
        if tx is not None and tx != current:
            if current is not None:
                finished.add(current)
            if tx in finished:
                runs.append([])
                finished = set()
            current = tx
        runs[-1].append(row)
    return [run for run in runs if run]


def _tx_of(row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    for key in _TX_KEYS:
        value = row.get(key)
        if isinstance(value, str) and value:
            return value.lower()
    return None


def _add(
    found: FileSightings,
    batch: Normalized,
    watched: Collection[str] | None,
    *,
    replace_source: bool = False,
) -> None:
    for fill in batch.fills:
        if watched is None or fill.wallet in watched:
            found.fills.append(replace(fill, source=FeedSource.REPLAY) if replace_source else fill)
        else:
            found.ignored["unwatched"] += 1
    found.rejects.extend(batch.rejects)
    found.ignored.update(batch.ignored)


def _add_frames(
    found: FileSightings, frames: list[Any], watched: Collection[str] | None, origin: str
) -> None:
    for frame in frames:
        payload = frame.get("payload") if isinstance(frame, dict) else None
        if not isinstance(payload, dict) or "proxyWallet" not in payload:
            found.ignored["not_a_trade_frame"] += 1
            continue
        try:
            result = fill_from_payload(payload, watched=watched)
        except MalformedRow as error:
            found.rejects.append(
                MalformedRow(f"{origin} (rtds)", error.field, error.reason, error.row)
            )
            continue
        if isinstance(result, Ignored):
            found.ignored[result.reason] += 1
        else:
            found.fills.append(replace(result, source=FeedSource.REPLAY))


def _unique_logs(logs: Iterable[Any]) -> list[Any]:
    seen: set[tuple[Any, Any]] = set()
    unique: list[Any] = []
    for log in logs:
        if isinstance(log, dict):
            key = (str(log.get("transactionHash", "")).lower(), log.get("logIndex"))
            if key in seen:
                continue
            seen.add(key)
        unique.append(log)
    return unique


# --- containers ----------------------------------------------------------------------------


def _json_items(raw: bytes, path: Path) -> tuple[list[Any], str]:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _json_lines(raw, path), "json lines"
    if isinstance(document, list):
        if document and all(_is_rpc_reply(item) for item in document):
            return [log for reply in document for log in _rpc_result(reply, path)], "json-rpc batch"
        return document, "array"
    if isinstance(document, dict):
        if "data" in document and ("pagination" in document or isinstance(document["data"], list)):
            data = document["data"]
            return (list(data) if isinstance(data, list) else []), "v2 envelope"
        if _is_rpc_reply(document):
            return _rpc_result(document, path), "json-rpc"
        return [document], "object"
    raise ReplayFormatError(
        f"{path}: expected a JSON array or object, found {type(document).__name__}"
    )


def _is_rpc_reply(item: Any) -> bool:
    return isinstance(item, dict) and "jsonrpc" in item and ("result" in item or "error" in item)


def _rpc_result(reply: dict[str, Any], path: Path) -> list[Any]:
    if reply.get("error"):
        raise ReplayFormatError(f"{path}: the JSON-RPC response is an error: {reply['error']}")
    result = reply.get("result")
    if not isinstance(result, list):
        raise ReplayFormatError(f"{path}: the JSON-RPC result is not a list of logs")
    return result


def _json_lines(raw: bytes, path: Path) -> list[Any]:
    items: list[Any] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            decoded = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise ReplayFormatError(
                f"{path}: line {number} is not JSON (expected one JSON object per line)"
            ) from None
        items.extend(decoded if isinstance(decoded, list) else [decoded])
    return items


def _csv_rows(raw: bytes, path: Path) -> list[Any]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReplayFormatError(f"{path}: not UTF-8 text (expected JSON or CSV)") from None
    rows: list[Any] = []
    for row in csv.DictReader(io.StringIO(text)):
        cleaned: dict[str, Any] = {}
        for key, value in row.items():
            if key is None or value is None or not value.strip():
                continue  # an empty cell means "absent", as a missing JSON key does
            cleaned[key.strip()] = value.strip()
        for key in _INTEGER_COLUMNS:
            value = cleaned.get(key)
            if isinstance(value, str) and value.isdigit():
                cleaned[key] = int(value)  # so the 999 sentinel is recognised
        rows.append(cleaned)
    return rows


def _kind_of(items: list[Any], path: Path) -> str:
    first = next((item for item in items if isinstance(item, dict)), None)
    if first is None:
        if not items:
            return "activity"  # an empty listing: nothing to replay, nothing wrong
        raise ReplayFormatError(f"{path}: expected JSON objects or CSV rows")
    if "topics" in first and "data" in first:
        return "logs"
    if "payload" in first or "topic" in first:
        return "rtds"
    if any(key in first for key in _WALLET_KEYS):
        return "activity" if any(key in first for key in _ACTIVITY_KEYS) else "trades"
    raise ReplayFormatError(
        f"{path}: cannot tell the format: expected Data API rows (proxyWallet), eth_getLogs "
        f"logs (topics, data) or RTDS frames (payload); the first object has keys "
        f"{sorted(first)[:8]}"
    )

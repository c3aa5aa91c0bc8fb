"""Builders for backtest tests: recorded-format files (Data API /trades rows, Gamma market
objects) for small synthetic histories, written where the test says.

Synthetic histories are written in the venue's own formats and read back through the
replay feed and the catalog loader, exactly like a user's files; values are chosen so a
test can compute what it expects by hand.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from polytail.domain.ids import address

LEADER = address("0x" + "a1" * 20)
OTHER_LEADER = address("0x" + "b2" * 20)
T0 = 1_760_000_000  # 2025-10-09 08:53:20 UTC


def condition(n: int) -> str:
    return "0x" + f"{n:064x}"


def token(n: int, outcome: int) -> str:
    # large decimal ids like the venue's (any unique integers will do)
    return str(10**70 + n * 10 + outcome)


@dataclass(frozen=True)
class Fill:
    market: int
    side: str
    size: str
    price: str
    at: int  # seconds after T0
    outcome: int = 0
    wallet: str = LEADER
    tx: int | None = None  # defaults to a transaction of its own


def trades_rows(fills: Sequence[Fill]) -> list[dict[str, Any]]:
    """Data API `/trades` rows, newest first as the API returns them."""
    rows = []
    for index, fill in enumerate(fills):
        tx = fill.tx if fill.tx is not None else index + 1
        rows.append(
            {
                "proxyWallet": fill.wallet,
                "side": fill.side,
                "asset": token(fill.market, fill.outcome),
                "conditionId": condition(fill.market),
                "size": float(fill.size),
                "price": float(fill.price),
                "timestamp": T0 + fill.at,
                "title": f"Market {fill.market}",
                "slug": f"market-{fill.market}",
                "eventSlug": f"event-{fill.market}",
                "outcome": "Yes" if fill.outcome == 0 else "No",
                "outcomeIndex": fill.outcome,
                "transactionHash": "0x" + f"{tx:064x}",
            }
        )
    return list(reversed(rows))


def gamma_market(
    n: int,
    *,
    winner: int | None = 0,
    tick: str = "0.01",
    min_size: str = "5",
    end_s: int | None = None,
    fee_rate: str | None = None,
    closed_at_s: int | None = None,
) -> dict[str, Any]:
    """A Gamma market object; `winner=None`: not resolved."""
    resolved = winner is not None
    market: dict[str, Any] = {
        "conditionId": condition(n),
        "question": f"Will market {n} resolve Yes?",
        "slug": f"market-{n}",
        "outcomes": json.dumps(["Yes", "No"]),
        "clobTokenIds": json.dumps([token(n, 0), token(n, 1)]),
        "orderPriceMinTickSize": float(tick),
        "orderMinSize": float(min_size),
        "endDate": _iso(end_s if end_s is not None else T0 + 30 * 86_400),
        "active": True,
        "closed": resolved,
        "acceptingOrders": not resolved,
        "negRisk": False,
    }
    if resolved:
        market["outcomePrices"] = json.dumps(
            ["1" if winner == 0 else "0", "0" if winner == 0 else "1"]
        )
        market["umaResolutionStatus"] = "resolved"
        if closed_at_s is not None:
            market["closedTime"] = _iso(closed_at_s)
    if fee_rate is not None:
        market["feesEnabled"] = True
        market["feeSchedule"] = {"rate": float(fee_rate), "exponent": 1, "takerOnly": True}
    return market


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


def history(
    tmp: Path, fills: Sequence[Fill], markets: Sequence[dict[str, Any]]
) -> tuple[Path, Path]:
    """Write the fills and the markets; returns (fills file, markets file)."""
    return write(tmp / "trades.json", trades_rows(fills)), write(
        tmp / "markets.json", list(markets)
    )


def random_fills(seed: int, count: int, markets: int) -> list[Fill]:
    """A seeded leader history: buys at drifting prices, some sales, over a few days."""
    rng = random.Random(seed)
    fills = []
    held: dict[int, float] = {}
    for index in range(count):
        market = rng.randrange(1, markets + 1)
        price = round(rng.uniform(0.1, 0.9), 2)
        if held.get(market, 0) > 20 and rng.random() < 0.25:
            size = round(held[market] * rng.uniform(0.2, 0.8), 2)
            held[market] -= size
            fills.append(Fill(market, "SELL", str(size), str(price), at=index * 600))
        else:
            size = round(rng.uniform(10, 200), 2)
            held[market] = held.get(market, 0) + size
            fills.append(Fill(market, "BUY", str(size), str(price), at=index * 600))
    return fills

"""Leaderboard rows → `LeaderboardEntry`, from the three shapes in use.

- Data API v1 `/v1/leaderboard`: `rank, proxyWallet, userName, vol, pnl, ...`.
- Data API v2 `/v2/leaderboard`: `rank, user_id, user_name, pnl, volume` (volume is in
  **shares**, not USD).
- The web app's `lb-api` (`/profit`, `/volume`): `proxyWallet, amount, pseudonym, name`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from polytail.domain.ids import Address
from polytail.venue.errors import MalformedRow
from polytail.venue.normalize.common import address_of, decimal_of, first_of

ORIGIN: Final = "leaderboard"


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    wallet: Address
    name: str
    rank: int | None
    pnl: Decimal | None  # USD
    volume: Decimal | None  # USD in v1; shares in v2 (see `volume_unit`)
    volume_unit: str
    amount: Decimal | None  # lb-api: profit or volume, by the endpoint asked
    period: str


def leaderboard_row(row: Any) -> LeaderboardEntry:
    if not isinstance(row, dict):
        raise MalformedRow(ORIGIN, "row", "is not an object", row)
    wallet_key, wallet = first_of(row, ("proxyWallet", "proxy_wallet", "user_id"), ORIGIN)
    v2 = "user_id" in row or "volume" in row

    def opt(*keys: str) -> Decimal | None:
        for key in keys:
            value = row.get(key)
            if value not in (None, ""):
                return decimal_of(value, key, ORIGIN, row)
        return None

    rank = row.get("rank")
    if rank not in (None, ""):
        try:
            rank = int(rank)
        except (TypeError, ValueError):
            raise MalformedRow(ORIGIN, "rank", f"is not an integer: {rank!r}", row) from None
    else:
        rank = None
    name = next(
        (str(row[key]) for key in ("userName", "user_name", "name", "pseudonym") if row.get(key)),
        "",
    )
    return LeaderboardEntry(
        wallet=address_of(wallet, wallet_key, ORIGIN, row),
        name=name,
        rank=rank,
        pnl=opt("pnl"),
        volume=opt("vol", "volume"),
        volume_unit="shares" if v2 else "usd",
        amount=opt("amount"),
        period=str(row.get("period") or ""),
    )

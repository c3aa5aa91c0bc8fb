"""Positions, closed positions and leaderboards parse from every recorded shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from polytail.domain.money import Shares
from polytail.venue.normalize.leaderboard import leaderboard_row
from polytail.venue.normalize.positions import closed_position_row, parse_rows, position_row


def test_recorded_positions(load_json: Any) -> None:
    positions, rejects = parse_rows(load_json("pscanner/positions.json"), position_row)

    assert rejects == [] and len(positions) == 5
    lightning = positions[0]
    assert lightning.size == Shares.parse("271790.1")
    assert lightning.avg_price == Decimal("0.8611")
    assert lightning.current_price == Decimal("0.9145")
    assert lightning.negative_risk and lightning.outcome == "No"
    assert lightning.opposite_token_id == (
        "35573117698117780238142713946749692621043319879346349609080985768472429209643"
    )


def test_recorded_closed_positions_of_two_wallets(load_json: Any) -> None:
    kch, rejects = parse_rows(load_json("pscanner/closed_positions.json"), closed_position_row)
    assert rejects == [] and len(kch) == 5
    villarreal = kch[0]
    assert villarreal.realized_pnl == Decimal(1095000)
    assert villarreal.total_bought == Shares.parse("1500000")
    assert villarreal.avg_price == Decimal("0.27") and villarreal.timestamp == 1768957706

    amy, rejects = parse_rows(load_json("Insider_Amy/closed_positions.json"), position_row)
    assert rejects == [] and amy[0].redeemable and amy[0].current_price == 0


def test_recorded_leaderboard_and_documented_v1_v2_shapes(load_json: Any) -> None:
    rows, rejects = parse_rows(load_json("pscanner/leaderboard.json"), leaderboard_row)
    assert rejects == [] and [r.name for r in rows[:2]] == ["Theo4", "Fredi9999"]
    assert rows[0].amount == Decimal("22053933.752321757") and rows[0].period == "all"

    # Constructed from the documented field lists (polymarket-api.md §4.1, §4.2).
    v1 = leaderboard_row(
        {"rank": "1", "proxyWallet": rows[0].wallet, "userName": "Theo4", "vol": 10, "pnl": 5.5}
    )
    v2 = leaderboard_row(
        {"rank": 1, "user_id": rows[0].wallet, "user_name": "Theo4", "volume": "10", "pnl": "5.5"}
    )
    assert (v1.rank, v1.pnl, v1.volume_unit) == (1, Decimal("5.5"), "usd")
    assert (v2.rank, v2.pnl, v2.volume_unit) == (1, Decimal("5.5"), "shares")


def test_v2_position_rows_use_snake_case(load_json: Any) -> None:
    # Constructed from the documented /v2/positions fields (polymarket-api.md §4.2).
    v1 = load_json("pscanner/positions.json")[1]
    v2 = {
        "proxy_wallet": v1["proxyWallet"],
        "token_id": v1["asset"],
        "condition_id": v1["conditionId"],
        "current_size": v1["size"],
        "avg_price": v1["avgPrice"],
        "current_price": v1["curPrice"],
        "current_value": v1["currentValue"],
        "negative_risk": True,
        "opposite_token_id": v1["oppositeAsset"],
        "outcome": "Yes",
        "outcome_index": 0,
        "status": "OPEN",
    }
    (parsed,), rejects = parse_rows([v2], position_row)
    (original,), _ = parse_rows([v1], position_row)
    assert rejects == []
    assert (parsed.size, parsed.avg_price, parsed.token_id, parsed.negative_risk) == (
        original.size,
        original.avg_price,
        original.token_id,
        True,
    )

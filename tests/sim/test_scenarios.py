"""Scenarios: deterministic for a seed, loadable from files, seeded from recorded data."""

from __future__ import annotations

from pathlib import Path

import pytest

from polytail.sim.scenarios import ScenarioError, build_exchange, load, parse


def tape_of(seed: int, seconds: float) -> list[tuple[str, str, str, int, int]]:
    scenario = load("synthetic", seed=seed)
    scenario.start_time = 1_790_000_000
    exchange = build_exchange(scenario, settle_delays=(0, 0))
    exchange.advance(seconds)
    assert exchange.ledger()["conserved"] and exchange.engine.crossed_books() == []
    return [(r.wallet, r.kind, r.tx_hash, r.shares, r.usdc) for r in exchange.tape.rows]


def test_the_synthetic_scenario_replays_identically_for_a_seed() -> None:
    first = tape_of(7, 400)
    assert first == tape_of(7, 400)
    assert first != tape_of(8, 400)
    kinds = {kind for _, kind, _, _, _ in first}
    assert {"TRADE", "REDEEM"} <= kinds  # the 5-minute market resolved and was redeemed


def test_a_toml_scenario_file_scripts_its_leader(tmp_path: Path) -> None:
    path = tmp_path / "rain.toml"
    path.write_text(
        'name = "rain"\nseed = 3\nstart_time = 1790000000\n'
        '[[markets]]\nslug = "will-it-rain"\nmid = "0.4"\nfee_rate = "0.05"\n'
        "resolve_after = 100\nwinner = 0\n"
        '[[leaders]]\nname = "rainmaker"\n'
        '[[leaders.trades]]\nat = 30\nmarket = "will-it-rain"\noutcome = 0\nside = "BUY"\n'
        'shares = "40"\nprice = "0.45"\n'
    )
    exchange = build_exchange(load(str(path)), settle_delays=(0, 0))
    exchange.advance(29)
    assert [r for r in exchange.tape.rows if r.kind == "TRADE"] == []
    exchange.advance(200)
    leader = exchange.named_wallet("rainmaker")
    mine = [(r.kind, r.shares) for r in exchange.tape.rows if r.wallet == leader]
    assert mine == [("TRADE", 40_000_000), ("REDEEM", 40_000_000)]


def test_a_bad_scenario_names_the_problem() -> None:
    with pytest.raises(ScenarioError, match="unknown or missing field"):
        parse({"markets": [{"slug": "x", "colour": "red"}]})
    with pytest.raises(ScenarioError, match="neither a built-in"):
        load("no-such-scenario")


def test_the_real_scenario_replays_the_recorded_leader(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLYTAIL_SHARED_DATA", str(shared_data))
    scenario = load("real", seed=1)
    scenario.replay_limit = 40
    scenario.replay_seconds = 60
    exchange = build_exchange(scenario, settle_delays=(0, 0))
    assert len(exchange.markets) == 59 + 18 + 6
    exchange.advance(70)
    amy = [
        r
        for r in exchange.tape.rows
        if r.wallet.lower() == "0xee50a31c3f5a7c77824b12a941a54388a2827ed6"
    ]
    assert len([r for r in amy if r.kind == "TRADE" and r.taker]) == 40
    assert any(r.kind == "REDEEM" for r in amy)
    assert exchange.ledger()["conserved"]

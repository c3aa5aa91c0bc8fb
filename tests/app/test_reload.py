"""Hot reload: policy sections apply at once; what built a connection waits for a restart."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from polytail.app.reload import changed_keys, plan_reload
from polytail.config.schema import Mode, PolytailConfig

LEADER = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20


def config(**raw: Any) -> PolytailConfig:
    base: dict[str, Any] = {"leaders": [{"address": LEADER, "name": "alice"}]}
    return PolytailConfig.model_validate({**base, **raw})


def test_nothing_changed_plans_nothing() -> None:
    assert not plan_reload(config(), config()).changed


def test_leaders_filters_sizing_and_caps_apply_without_a_restart() -> None:
    new = config(
        leaders=[{"address": LEADER}, {"address": OTHER, "name": "bob"}],
        sizing={"fixed_usdc": "25"},
        risk={"max_order_usdc": "80"},
    )
    plan = plan_reload(config(), new)
    assert plan.deferred == ()
    assert {"leaders", "sizing.fixed_usdc", "risk.max_order_usdc"} <= set(plan.applied)
    assert [leader.address for leader in plan.config.leaders] == [LEADER, OTHER]
    assert plan.config.sizing.fixed_usdc == Decimal(25)
    assert plan.config.leaders[0].sizing.fixed_usdc == Decimal(25)  # merged into the leader


def test_mode_venue_and_database_changes_wait_for_a_restart_and_keep_their_values() -> None:
    current = config()
    new = config(
        mode="live",
        wallet={"address": OTHER, "type": "eoa"},
        venue={"clob_url": "https://example.org"},
        risk={"kill_switch_file": "STOP", "max_total_usdc": "10"},
    )
    plan = plan_reload(current, new)
    assert set(plan.deferred) == {
        "mode",
        "wallet.address",
        "wallet.type",
        "venue.clob_url",
        "risk.kill_switch_file",
    }
    assert plan.applied == ("risk.max_total_usdc",)
    assert plan.config.mode is Mode.PAPER  # a saved edit never switches paper to live
    assert plan.config.venue.clob_url == current.venue.clob_url
    assert plan.config.risk.kill_switch_file == "KILL"
    assert plan.config.risk.max_total_usdc == Decimal(10)


def test_changed_keys_are_dotted_paths() -> None:
    assert changed_keys(config(), config(filters={"price_max": "0.9"})) == [
        "filters.price_max",
        "leaders",
    ]

"""The kill switch and paused leaders: one state, whoever changes it, surviving restarts."""

from __future__ import annotations

from pathlib import Path

from polytail.app.controls import Controls, kill_switch_path
from polytail.config.schema import PolytailConfig
from polytail.domain.ids import Address
from polytail.engine.events import Event, EventBus, KillSwitchChanged, LeaderPaused
from polytail.store import Store

LEADER = Address("0x" + "ab" * 20)


class Clock:
    def __init__(self) -> None:
        self.now = 1_767_225_600_000

    def now_ms(self) -> int:
        return self.now

    def monotonic_ns(self) -> int:
        return self.now * 1_000_000


def setup(
    tmp_path: Path,
) -> tuple[PolytailConfig, Store, list[Event], list[tuple[bool, frozenset[Address]]]]:
    config = PolytailConfig.model_validate(
        {"data_dir": str(tmp_path), "leaders": [{"address": LEADER, "name": "alice"}]}
    )
    return config, Store.from_config(config), [], []


def controls(config: PolytailConfig, store: Store, events: list[Event], applied: list) -> Controls:  # type: ignore[type-arg]
    bus = EventBus()
    bus.listen(events.append)
    return Controls(
        config=config,
        store=store,
        clock=Clock(),
        bus=bus,
        apply=lambda kill, paused: applied.append((kill, paused)),
    )


def test_engaging_writes_the_file_publishes_audits_and_reaches_the_policy(tmp_path: Path) -> None:
    config, store, events, applied = setup(tmp_path)
    state = controls(config, store, events, applied)
    switch = state.set_kill(True, by="dashboard")
    assert switch.engaged and switch.source == "dashboard"
    assert kill_switch_path(config).read_text().startswith("engaged by dashboard at ")
    assert events == [KillSwitchChanged(True, "dashboard", Clock().now)]
    assert applied == [(True, frozenset())]
    with store.read() as tx:
        (entry,) = tx.audit.recent()
    assert (entry.actor, entry.action, entry.subject) == ("dashboard", "kill_switch", "engaged")
    # idempotent: the same state again changes and records nothing
    state.set_kill(True, by="telegram")
    assert len(events) == 1
    state.set_kill(False, by="telegram")
    assert not kill_switch_path(config).exists()
    assert [e.engaged for e in events if isinstance(e, KillSwitchChanged)] == [True, False]


def test_the_file_is_the_state_a_restart_and_another_process_see(tmp_path: Path) -> None:
    config, store, events, applied = setup(tmp_path)
    controls(config, store, [], []).set_kill(True, by="cli")  # e.g. `polytail kill on`
    running = controls(config, store, events, applied)
    assert running.kill.engaged and running.kill.source == "cli"  # read at start
    kill_switch_path(config).unlink()  # someone removes the file
    changed = running.sync_file()
    assert changed is not None and not changed.engaged
    assert events[-1] == KillSwitchChanged(False, "file", Clock().now)
    assert running.sync_file() is None  # nothing new
    kill_switch_path(config).touch()  # a plain touch engages it too
    assert running.sync_file() is not None and running.kill.engaged
    with store.read() as tx:
        actors = [(e.actor, e.subject) for e in reversed(tx.audit.recent())]
    assert actors == [("cli", "engaged"), ("file", "released"), ("file", "engaged")]


def test_a_pause_survives_a_restart_and_is_audited_with_who(tmp_path: Path) -> None:
    config, store, events, applied = setup(tmp_path)
    state = controls(config, store, events, applied)
    assert state.set_paused(LEADER, True, by="telegram")
    assert not state.set_paused(LEADER, True, by="telegram")  # already paused
    assert applied[-1] == (False, frozenset({LEADER}))
    assert events == [LeaderPaused(LEADER, True, "telegram", Clock().now)]
    assert controls(config, store, [], []).paused == frozenset({LEADER})
    state.set_paused(LEADER, False, by="dashboard")
    assert controls(config, store, [], []).paused == frozenset()
    with store.read() as tx:
        entries = [(e.actor, e.action, e.subject) for e in reversed(tx.audit.recent())]
    assert entries == [("telegram", "pause", LEADER), ("dashboard", "resume", LEADER)]

"""The operator's controls: the kill switch and paused leaders, one state for every front end.

The kill switch can be thrown from five places: the file `data_dir/<risk.kill_switch_file>`
(`touch` it, or `polytail kill on`), SIGUSR1, the dashboard and Telegram. They all end
here, so there is one answer to "is it engaged?", and the file *is* that answer: engaging
writes it (saying who and when), releasing removes it. It therefore survives a restart,
and a running engine notices a file created or removed by another process (the runner
watches it and calls `sync_file`).

Paused leaders are kept in the store (`risk_state`, scope `paused`) so a pause survives a
restart too. Every change is written to the audit log with who made it, published on the
bus (`KillSwitchChanged`, `LeaderPaused`) and handed to `apply`, which the runner points
at the engine's pipeline: the policy reads the new state on the next decision. So call it
on the event loop's thread (a file write and one small transaction, like the PENDING
write).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Final

import structlog

from polytail.app.services import KillSwitch
from polytail.config.schema import PolytailConfig
from polytail.domain.clock import Clock
from polytail.domain.ids import AccountId, Address, account_id
from polytail.engine.events import EventBus, KillSwitchChanged, LeaderPaused
from polytail.store import Store
from polytail.store.audit import AuditEntry

log = structlog.get_logger(__name__)

PAUSED: Final = "paused"  # risk_state scope of paused leaders
Apply = Callable[[bool, frozenset[Address]], None]


def kill_switch_path(config: PolytailConfig) -> Path:
    return config.resolved_data_dir / config.risk.kill_switch_file


class Controls:
    def __init__(
        self,
        *,
        config: PolytailConfig,
        store: Store,
        clock: Clock,
        bus: EventBus | None = None,
        apply: Apply | None = None,
    ) -> None:
        self.account: AccountId = account_id(config.account)
        self.path = kill_switch_path(config)
        self.store = store
        self.clock = clock
        self.bus = bus
        self.apply = apply
        self.kill = _read_file(self.path)
        with store.read() as tx:
            entries = tx.risk.active(self.account, now_ms=clock.now_ms(), scope=PAUSED)
        self.paused: frozenset[Address] = frozenset(Address(e.key) for e in entries)

    # --- the kill switch -----------------------------------------------------------------
    def set_kill(self, on: bool, *, by: str) -> KillSwitch:
        """Engage or release the kill switch (idempotent: the same state is not re-recorded)."""
        now_ms = self.clock.now_ms()
        if on:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            stamp = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).isoformat(timespec="seconds")
            self.path.write_text(f"engaged by {by} at {stamp}\n", encoding="utf-8")
        else:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        return self._changed(on, by, now_ms)

    def sync_file(self) -> KillSwitch | None:
        """Take a change made to the file from outside (another process, a `touch`)."""
        found = _read_file(self.path)
        if found.engaged == self.kill.engaged:
            return None
        # Recorded as the file's doing: the command that wrote it (`polytail kill`) has an
        # entry of its own, and a plain `touch` has no other.
        by = found.source or "file"
        return self._changed(found.engaged, by, self.clock.now_ms(), actor="file")

    def toggle_kill(self, *, by: str) -> KillSwitch:
        return self.set_kill(not self.kill.engaged, by=by)

    def _changed(self, on: bool, by: str, now_ms: int, *, actor: str | None = None) -> KillSwitch:
        if on == self.kill.engaged:
            return self.kill
        self.kill = KillSwitch(on, by, now_ms)
        detail = {"path": str(self.path)} | ({"written_by": by} if actor else {})
        self._audit(actor or by, "kill_switch", "engaged" if on else "released", detail)
        log.warning("kill switch engaged" if on else "kill switch released", by=by)
        self._publish(KillSwitchChanged(on, by, now_ms))
        return self.kill

    # --- paused leaders --------------------------------------------------------------------
    def set_paused(self, leader: Address, paused: bool, *, by: str) -> bool:
        """Pause or resume one leader; False when it already was in that state."""
        if (leader in self.paused) == paused:
            return False
        now_ms = self.clock.now_ms()
        with self.store.transaction() as tx:
            if paused:
                tx.risk.put(self.account, PAUSED, leader, by, at_ms=now_ms)
            else:
                tx.risk.clear(self.account, PAUSED, leader)
            tx.audit.append(self._entry(by, "pause" if paused else "resume", leader, {}, now_ms))
        self.paused = self.paused | {leader} if paused else self.paused - {leader}
        log.info("leader paused" if paused else "leader resumed", leader=leader, by=by)
        self._publish(LeaderPaused(leader, paused, by, now_ms))
        return True

    # --- plumbing ------------------------------------------------------------------------
    def _publish(self, event: KillSwitchChanged | LeaderPaused) -> None:
        if self.apply is not None:
            self.apply(self.kill.engaged, self.paused)
        if self.bus is not None:
            self.bus.publish(event)

    def _audit(self, by: str, action: str, subject: str, detail: dict[str, str]) -> None:
        with self.store.transaction() as tx:
            tx.audit.append(self._entry(by, action, subject, detail, self.clock.now_ms()))

    def _entry(
        self, by: str, action: str, subject: str, detail: dict[str, str], at_ms: int
    ) -> AuditEntry:
        return AuditEntry(at_ms, by, action, subject, self.account, detail)


def _read_file(path: Path) -> KillSwitch:
    """The kill switch as the file says: engaged while it exists; who engaged it if it says."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        since_ms = int(path.stat().st_mtime * 1000)
    except FileNotFoundError:
        return KillSwitch(False)
    except OSError:  # unreadable but present: engaged (the safe reading)
        return KillSwitch(True, "file")
    source = "file"
    if text.startswith("engaged by "):
        source = text.removeprefix("engaged by ").split(" at ", 1)[0].strip() or "file"
    return KillSwitch(True, source, since_ms)

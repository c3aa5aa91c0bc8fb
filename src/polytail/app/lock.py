"""One instance per data directory.

Two engines on one data directory would share a database and a kill switch file and could
send the same copy twice from two processes. `polytail run` holds an exclusive lock on
`data_dir/polytail.lock` (filelock: an `flock` on Unix, released by the kernel when the
process dies, so a crash never leaves a stale lock) and writes its pid beside it
(`polytail.pid`), so a second start can say who holds it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

from filelock import FileLock, Timeout

LOCK_NAME: Final = "polytail.lock"
PID_NAME: Final = "polytail.pid"


class AlreadyRunning(Exception):
    """Another polytail holds this data directory. The message names its pid and the lock."""


class InstanceLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self.pid_path = data_dir / PID_NAME
        self._lock = FileLock(self.path, timeout=0)

    def acquire(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            holder = self.holder()
            who = f"pid {holder}" if holder else "another process"
            raise AlreadyRunning(
                f"{who} is already running polytail on {self.data_dir} (lock {self.path}); "
                "stop it first, or give this run another data_dir"
            ) from None
        self.pid_path.write_text(f"{os.getpid()}\n", encoding="utf-8")

    def holder(self) -> int | None:
        try:
            return int(self.pid_path.read_text(encoding="utf-8").split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def release(self) -> None:
        if self._lock.is_locked:
            if self.holder() == os.getpid():
                with contextlib.suppress(OSError):
                    self.pid_path.unlink()
            self._lock.release()

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

"""Hot reload: which changes of the config file apply to a running engine, and which wait.

Leaders (the watch list), filters, sizing, pricing, exits and risk limits are read on every
decision, so they change without a restart: the new values apply from the next leader
fill. Notification settings apply by replacing the notifier (the surfaces' `reload`).
Everything else that built a connection, a file or a schedule (mode, wallet, venue URLs,
feeds, database, data directory, web, execution, the kill switch file's name) needs a
restart; a reload keeps the running value of those keys and says so, so a
saved edit can never switch paper to live or move the database under a running engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from polytail.config.schema import PolytailConfig

HOT_SECTIONS: Final = ("leaders", "filters", "sizing", "pricing", "exits", "risk", "notify")
COLD_KEYS: Final = frozenset({"risk.kill_switch_file"})  # a hot section's key that is not


@dataclass(frozen=True, slots=True)
class Reload:
    config: PolytailConfig  # what runs from now on
    applied: tuple[str, ...]  # keys whose new value is in force
    deferred: tuple[str, ...]  # keys changed in the file that wait for a restart

    @property
    def changed(self) -> bool:
        return bool(self.applied or self.deferred)


def changed_keys(old: PolytailConfig, new: PolytailConfig) -> list[str]:
    """Dotted keys whose value differs (a list, such as `leaders`, counts as one key)."""
    before = _flatten(old.model_dump(mode="json"))
    after = _flatten(new.model_dump(mode="json"))
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def plan_reload(current: PolytailConfig, new: PolytailConfig) -> Reload:
    keys = changed_keys(current, new)
    applied = [key for key in keys if _is_hot(key)]
    deferred = [key for key in keys if not _is_hot(key)]
    update = {section: getattr(new, section) for section in HOT_SECTIONS}
    update["risk"] = new.risk.model_copy(update={"kill_switch_file": current.risk.kill_switch_file})
    return Reload(current.model_copy(update=update), tuple(applied), tuple(deferred))


def _is_hot(key: str) -> bool:
    return key.split(".", 1)[0] in HOT_SECTIONS and key not in COLD_KEYS


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, Mapping):
            flat.update(_flatten(item, f"{path}."))
        else:
            flat[path] = item
    return flat

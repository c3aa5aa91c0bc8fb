"""Keeping secrets out of every text polytail writes.

Two defences, both applied to log lines, error messages, CLI output and notifications:

1. Values: every secret polytail loads is registered here, and `scrub` replaces any
   occurrence of it (in any case, with or without `0x`) by `***`. This catches a secret
   that leaks through an exception message or a repr, which key-based filtering misses.
2. Keys: structured fields whose *name* says secret (`private_key`, `api_secret`,
   `passphrase`, `token`, ...) are replaced wholesale, before anything renders them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final

MASK: Final = "***"
SECRET_KEY_PATTERN: Final = re.compile(
    r"(private[_-]?key|secret|passphrase|password|mnemonic|seed[_-]?phrase|"
    r"api[_-]?key|token|authorization|poly[_-]signature)",
    re.IGNORECASE,
)
_MIN_SECRET_LENGTH: Final = 6  # shorter values would mask innocent text


class Redactor:
    """A process-wide set of secret values and the function that scrubs them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()
        self._pattern: re.Pattern[str] | None = None

    def register(self, *values: str | None) -> None:
        """Remember secret values; variants with and without a 0x prefix are covered."""
        fresh: set[str] = set(self._values)
        for value in values:
            if not value or len(value) < _MIN_SECRET_LENGTH:
                continue
            fresh.add(value)
            if value[:2].lower() == "0x" and len(value) > 2 + _MIN_SECRET_LENGTH:
                fresh.add(value[2:])
        with self._lock:
            # Longest first, so a value containing another is masked whole.
            self._values = tuple(sorted(fresh, key=len, reverse=True))
            self._pattern = (
                re.compile("|".join(re.escape(v) for v in self._values), re.IGNORECASE)
                if self._values
                else None
            )

    def clear(self) -> None:
        with self._lock:
            self._values = ()
            self._pattern = None

    def scrub(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)

    def scrub_value(self, value: Any) -> Any:
        """Scrub strings inside nested structures (dicts, lists, tuples) too."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, Mapping):
            return {key: self.redact_field(str(key), item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.scrub_value(item) for item in value)
        return value

    def redact_field(self, key: str, value: Any) -> Any:
        """A field's value, masked entirely when its name says it is a secret."""
        if value is not None and value != "" and is_secret_key(key):
            return MASK
        return self.scrub_value(value)

    def redact_mapping(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        return {key: self.redact_field(key, value) for key, value in fields.items()}


def is_secret_key(key: str) -> bool:
    lowered = key.lower()
    if lowered in _NOT_SECRET_KEYS:
        return False
    return bool(SECRET_KEY_PATTERN.search(lowered))


_NOT_SECRET_KEYS: Final = frozenset(
    {
        # ids that merely contain a secret-sounding word
        "token_id",
        "token_ids",
        "tokens",
        "asset_id",
        "max_tokens",
        "keystore",
    }
)

REDACTOR: Final = Redactor()
"""The process-wide registry. Secrets register themselves when loaded."""

SECRET_ENV: Final[dict[str, str]] = {
    "private_key": "POLYTAIL_PRIVATE_KEY",
    "clob_api_key": "POLYTAIL_CLOB_API_KEY",
    "clob_api_secret": "POLYTAIL_CLOB_API_SECRET",
    "clob_api_passphrase": "POLYTAIL_CLOB_API_PASSPHRASE",
    "relayer_api_key": "POLYTAIL_RELAYER_API_KEY",
    "builder_api_key": "POLYTAIL_BUILDER_API_KEY",
    "builder_api_secret": "POLYTAIL_BUILDER_API_SECRET",
    "builder_api_passphrase": "POLYTAIL_BUILDER_API_PASSPHRASE",
    "telegram_token": "POLYTAIL_TELEGRAM_TOKEN",
    "dashboard_token": "POLYTAIL_DASHBOARD_TOKEN",
    "keystore_passphrase": "POLYTAIL_KEYSTORE_PASSPHRASE",
}
"""Where each secret comes from. The names are not secret; the values are."""


def register_environment_secrets(environ: Mapping[str, str]) -> None:
    """Register every secret present in the environment, before anything is printed.

    Called first thing by the CLI, so even an error raised while loading the config
    (which happens before the secrets are parsed) cannot echo one.
    """
    REDACTOR.register(*(environ.get(name, "").strip() for name in SECRET_ENV.values()))


def scrub(text: str) -> str:
    return REDACTOR.scrub(text)


def register_secrets(values: Iterable[str | None]) -> None:
    REDACTOR.register(*values)

"""Secrets: only from the environment or an encrypted keystore, never from the config file.

A secret is wrapped in `Secret`, whose `str()` and `repr()` are `***`; the raw value is
reachable only through `reveal()`, at the few places that sign or authenticate. Every
secret loaded is registered with the redactor, so even a leak through an exception
message is masked in logs, errors and notifications.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Final

from polytail.config.redaction import MASK, SECRET_ENV, register_secrets
from polytail.config.schema import PolytailConfig

ENV_PRIVATE_KEY: Final = SECRET_ENV["private_key"]
ENV_KEYSTORE_PASSPHRASE: Final = SECRET_ENV["keystore_passphrase"]
ENV_RELAYER_KEY: Final = SECRET_ENV["relayer_api_key"]
ENV_RELAYER_KEY_ADDRESS: Final = "POLYTAIL_RELAYER_API_KEY_ADDRESS"  # not a secret
ENV_BUILDER_KEY: Final = (
    SECRET_ENV["builder_api_key"],
    SECRET_ENV["builder_api_secret"],
    SECRET_ENV["builder_api_passphrase"],
)
RELAYER_KEY_HELP: Final = (
    f"set {ENV_RELAYER_KEY} and {ENV_RELAYER_KEY_ADDRESS} (a Relayer API key and the "
    f"address it belongs to), or {ENV_BUILDER_KEY[0]}, {ENV_BUILDER_KEY[1]} and "
    f"{ENV_BUILDER_KEY[2]} (a Builder API key); see docs/OPERATIONS.md"
)
"""What an operator must do so that a proxy, Safe or deposit wallet can redeem."""
_PRIVATE_KEY_SHAPE: Final = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_ADDRESS_SHAPE: Final = re.compile(r"0x[0-9a-fA-F]{40}")


class SecretError(ValueError):
    """A secret is missing or unusable. The message never contains the secret."""


class Secret:
    """A secret value that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> str:
        raise TypeError("secrets are not picklable")


@dataclass(frozen=True, slots=True)
class RelayerKey:
    """A Relayer API key and the address it belongs to (the address is public)."""

    key: Secret
    address: str


@dataclass(frozen=True, slots=True)
class BuilderKey:
    """A Builder API key: it signs each relayer request with an HMAC, like CLOB L2 auth."""

    key: Secret
    secret: Secret
    passphrase: Secret


GaslessKey = RelayerKey | BuilderKey
"""What the relayer accepts for gasless transactions (the SDK's `api_key`)."""


@dataclass(frozen=True, slots=True)
class Secrets:
    private_key: Secret | None = None
    clob_api_key: Secret | None = None
    clob_api_secret: Secret | None = None
    clob_api_passphrase: Secret | None = None
    relayer_api_key: Secret | None = None
    builder_api_key: Secret | None = None
    builder_api_secret: Secret | None = None
    builder_api_passphrase: Secret | None = None
    telegram_token: Secret | None = None
    dashboard_token: Secret | None = None
    keystore_passphrase: Secret | None = None
    relayer_api_key_address: str | None = None  # not a secret; belongs with the key

    @property
    def has_clob_credentials(self) -> bool:
        return None not in (self.clob_api_key, self.clob_api_secret, self.clob_api_passphrase)

    @property
    def gasless_key(self) -> GaslessKey | None:
        """The relayer key, if one is configured (a Relayer API key wins over a Builder one).

        `load_secrets` refuses half of either, so anything partial is already an error.
        """
        if self.relayer_api_key is not None and self.relayer_api_key_address is not None:
            return RelayerKey(self.relayer_api_key, self.relayer_api_key_address)
        if (
            self.builder_api_key is not None
            and self.builder_api_secret is not None
            and self.builder_api_passphrase is not None
        ):
            return BuilderKey(
                self.builder_api_key, self.builder_api_secret, self.builder_api_passphrase
            )
        return None

    def present(self) -> dict[str, bool]:
        """Which secrets are set, for `config check` and `doctor` (never their values)."""
        return {field.name: getattr(self, field.name) is not None for field in fields(self)}


def normalize_private_key(raw: str) -> str:
    """A 0x-prefixed lowercase 32-byte hex key, or `SecretError` (without the value)."""
    candidate = raw.strip()
    if not _PRIVATE_KEY_SHAPE.fullmatch(candidate):
        raise SecretError(
            f"{ENV_PRIVATE_KEY} is not a private key: expected 64 hex digits, optionally "
            "prefixed with 0x (the value is not shown)"
        )
    if not candidate.startswith(("0x", "0X")):
        candidate = "0x" + candidate
    return candidate.lower()


def load_secrets(
    config: PolytailConfig, environ: Mapping[str, str] | None = None, *, decrypt: bool = True
) -> Secrets:
    """Read every secret from the environment (and the keystore, when configured).

    `decrypt=False` skips the keystore's (deliberately slow) key derivation, for commands
    that only need to know whether a key is configured.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Secret | None] = {}
    for name, variable in SECRET_ENV.items():
        raw = env.get(variable, "")
        values[name] = Secret(raw.strip()) if raw.strip() else None
    register_secrets(secret.reveal() for secret in values.values() if secret is not None)
    relayer_address = _relayer_key_address(env, values)

    private_key = values["private_key"]
    if private_key is not None:
        normalized = normalize_private_key(private_key.reveal())
        values["private_key"] = Secret(normalized)
        register_secrets([normalized])
        if config.wallet.keystore is not None:
            raise SecretError(
                f"both {ENV_PRIVATE_KEY} and wallet.keystore are set; use one source of "
                "the signing key"
            )
    elif config.wallet.keystore is not None and decrypt:
        values["private_key"] = Secret(
            decrypt_keystore(config.wallet.keystore, values["keystore_passphrase"])
        )
    return Secrets(**values, relayer_api_key_address=relayer_address)


def _relayer_key_address(env: Mapping[str, str], values: Mapping[str, Secret | None]) -> str | None:
    """The Relayer API key's address; half a relayer or builder key is refused here, so
    an operator learns at start-up rather than at the first resolution."""
    address = env.get(ENV_RELAYER_KEY_ADDRESS, "").strip() or None
    if (values["relayer_api_key"] is None) != (address is None):
        given, missing = (
            (ENV_RELAYER_KEY, ENV_RELAYER_KEY_ADDRESS)
            if address is None
            else (ENV_RELAYER_KEY_ADDRESS, ENV_RELAYER_KEY)
        )
        raise SecretError(f"{given} is set but {missing} is not; set both, or neither")
    if address is not None and not _ADDRESS_SHAPE.fullmatch(address):
        raise SecretError(
            f"{ENV_RELAYER_KEY_ADDRESS} is not an address: expected 0x and 40 hex digits"
        )
    builder = [
        values[name] for name in ("builder_api_key", "builder_api_secret", "builder_api_passphrase")
    ]
    if any(part is not None for part in builder) and None in builder:
        missing_builder = [
            variable
            for variable, part in zip(ENV_BUILDER_KEY, builder, strict=True)
            if part is None
        ]
        raise SecretError(
            f"a Builder API key needs all of {', '.join(ENV_BUILDER_KEY)}; "
            f"{' and '.join(missing_builder)} missing"
        )
    return address


def decrypt_keystore(path: Path, passphrase: Secret | None) -> str:
    """Decrypt an Ethereum keystore file (scrypt/pbkdf2 + AES) into a private key."""
    from eth_account import Account  # noqa: PLC0415 (slow import, only when needed)

    location = path.expanduser()
    if passphrase is None:
        raise SecretError(
            f"wallet.keystore is set ({location}) but {ENV_KEYSTORE_PASSPHRASE} is not; "
            "export the passphrase in the environment"
        )
    try:
        document = json.loads(location.read_text())
    except FileNotFoundError:
        raise SecretError(f"keystore file {location} does not exist") from None
    except (OSError, ValueError) as error:
        raise SecretError(f"keystore file {location} is not readable JSON: {error}") from None
    try:
        key: bytes = Account.decrypt(document, passphrase.reveal())
    except ValueError:
        raise SecretError(
            f"keystore {location}: wrong passphrase in {ENV_KEYSTORE_PASSPHRASE}, or a damaged file"
        ) from None
    except (KeyError, TypeError) as error:
        raise SecretError(f"keystore {location} is not an Ethereum keystore: {error}") from None
    normalized = "0x" + key.hex()
    register_secrets([normalized])
    return normalized


def encrypt_keystore(private_key: str, passphrase: str) -> dict[str, object]:
    """An Ethereum keystore document (scrypt KDF) for `private_key`."""
    from eth_account import Account  # noqa: PLC0415
    from eth_typing import HexStr  # noqa: PLC0415

    normalized = normalize_private_key(private_key)
    register_secrets([normalized, passphrase])
    document: dict[str, object] = Account.encrypt(HexStr(normalized), passphrase, kdf="scrypt")
    return document


def address_of(private_key: Secret) -> str:
    """The EOA address of a key (lowercase)."""
    from eth_account import Account  # noqa: PLC0415

    return str(Account.from_key(private_key.reveal()).address).lower()

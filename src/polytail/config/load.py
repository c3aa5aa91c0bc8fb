"""Loading the configuration: TOML file, then environment overrides, validated as a whole.

Order of precedence: `POLYTAIL_<SECTION>__<KEY>` environment variables, then the TOML
file, then the documented defaults. TOML numbers are read as exact `Decimal`s.

Every problem is reported at once, each naming the key, the bad value (unless it looks
like a secret) and what is expected, and where the value came from (file or variable).
A config file that contains a secret is refused outright: secrets belong in the
environment or an encrypted keystore.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from polytail.config.redaction import is_secret_key, scrub
from polytail.config.schema import PolytailConfig

ENV_PREFIX: Final = "POLYTAIL_"
ENV_CONFIG_PATH: Final = "POLYTAIL_CONFIG"
DEFAULT_CONFIG_NAME: Final = "polytail.toml"
_LOOKS_LIKE_KEY: Final = re.compile(r"(0x)?[0-9a-fA-F]{64}")


class ConfigError(Exception):
    """The configuration is unusable. `problems` lists every issue found, one per line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = [scrub(problem) for problem in problems]
        super().__init__(f"{scrub(source)}: " + "; ".join(self.problems))

    def render(self) -> str:
        lines = [f"invalid configuration ({scrub(self.source)}):"]
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)


_ENVIRON: ContextVar[Mapping[str, str]] = ContextVar("polytail_config_environ")


class _EnvironSource(EnvSettingsSource):
    """The environment source, reading the mapping `load_config` was given."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in _ENVIRON.get({}).items()}


class _Settings(BaseSettings, PolytailConfig):
    """The schema plus environment overrides (pydantic-settings)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first (it wins), then the TOML document passed as init values.
        return (_EnvironSource(settings_cls), init_settings)


def find_config_path(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The file to read: --config, else $POLYTAIL_CONFIG, else ./polytail.toml if present."""
    if explicit is not None:
        return explicit
    if environ.get(ENV_CONFIG_PATH):
        return Path(environ[ENV_CONFIG_PATH])
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.exists() else None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            str(path), [f"file not found; create one with `polytail init {path}`"]
        ) from None
    except OSError as error:
        raise ConfigError(str(path), [f"cannot read the file: {error.strerror}"]) from None
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(path), [f"not valid TOML: {error}"]) from None


def strip_secrets(
    document: Mapping[str, Any], prefix: str = ""
) -> tuple[dict[str, Any], list[str]]:
    """The document without secret-bearing keys, and one problem per key removed.

    A key is a secret by its name (`private_key`, `api_secret`, `token`, ...) or by a
    value shaped like a private key (64 hex digits). Their values are never echoed.
    """
    clean: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in document.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            clean[key], found = strip_secrets(value, f"{path}.")
            problems += found
        elif isinstance(value, list):
            items: list[Any] = []
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    cleaned, found = strip_secrets(item, f"{path}[{index}].")
                    items.append(cleaned)
                    problems += found
                elif isinstance(item, str) and _LOOKS_LIKE_KEY.fullmatch(item.strip()):
                    problems.append(_secret_problem(f"{path}[{index}]", looks_like_key=True))
                else:
                    items.append(item)
            clean[key] = items
        elif is_secret_key(str(key)) and value not in ("", None):
            problems.append(_secret_problem(path, looks_like_key=False))
        elif isinstance(value, str) and _LOOKS_LIKE_KEY.fullmatch(value.strip()):
            problems.append(_secret_problem(path, looks_like_key=True))
        else:
            clean[key] = value
    return clean, problems


_SECRET_HINTS: Final = (
    ("telegram", "POLYTAIL_TELEGRAM_TOKEN"),
    ("dashboard", "POLYTAIL_DASHBOARD_TOKEN"),
    ("relayer", "POLYTAIL_RELAYER_API_KEY"),
    (
        "builder",
        "POLYTAIL_BUILDER_API_KEY, POLYTAIL_BUILDER_API_SECRET or POLYTAIL_BUILDER_API_PASSPHRASE",
    ),
    ("keystore", "POLYTAIL_KEYSTORE_PASSPHRASE"),
    ("private", "POLYTAIL_PRIVATE_KEY"),
    ("mnemonic", "POLYTAIL_PRIVATE_KEY"),
    ("seed", "POLYTAIL_PRIVATE_KEY"),
    ("passphrase", "POLYTAIL_CLOB_API_PASSPHRASE"),
    ("secret", "POLYTAIL_CLOB_API_SECRET"),
    ("api_key", "POLYTAIL_CLOB_API_KEY"),
    ("apikey", "POLYTAIL_CLOB_API_KEY"),
    ("token", "POLYTAIL_TELEGRAM_TOKEN or POLYTAIL_DASHBOARD_TOKEN"),
)


def _secret_problem(path: str, *, looks_like_key: bool) -> str:
    lowered = path.lower()
    variable = next(
        (hint for word, hint in _SECRET_HINTS if word in lowered),
        "POLYTAIL_PRIVATE_KEY" if looks_like_key else "the matching POLYTAIL_* variable",
    )
    what = "holds a value shaped like a private key" if looks_like_key else "is a secret"
    return (
        f"{path} {what}; secrets are never read from the config file (the value is not "
        f"shown). Remove it and set {variable} in the environment instead"
        + (
            ", or use an encrypted keystore (wallet.keystore + POLYTAIL_KEYSTORE_PASSPHRASE)"
            if "PRIVATE_KEY" in variable
            else ""
        )
    )


def load_config(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    use_default_file: bool = True,
) -> PolytailConfig:
    """Load, merge and validate the configuration, or raise `ConfigError`."""
    env = dict(os.environ if environ is None else environ)
    source_path = find_config_path(path, env) if use_default_file or path else None
    document: dict[str, Any] = read_toml(source_path) if source_path is not None else {}
    source = str(source_path) if source_path is not None else "defaults"

    document, problems = strip_secrets(document)
    try:
        settings = _build(document, env)
    except ValidationError as error:
        problems += describe_errors(error, env)
    if problems:
        raise ConfigError(source, problems)
    return PolytailConfig.model_validate(settings.model_dump())


def _build(document: dict[str, Any], env: Mapping[str, str]) -> _Settings:
    config_env = {key: value for key, value in env.items() if key.upper().startswith(ENV_PREFIX)}
    token = _ENVIRON.set(config_env)
    try:
        return _Settings(**document)
    finally:
        _ENVIRON.reset(token)


# --------------------------------------------------------------------------------------
# error messages
# --------------------------------------------------------------------------------------


def describe_errors(error: ValidationError, env: Mapping[str, str]) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        location = tuple(item["loc"])
        path = _dotted(location)
        variable = _env_name(location, env)
        origin = f" (from environment variable {variable})" if variable else ""
        if item["type"] == "extra_forbidden":
            problems.append(f"{path}: unknown key{origin}{_suggest(location)}")
            continue
        if item["type"] == "missing":
            problems.append(f"{path}: required key is missing{origin}")
            continue
        shown = _show_value(item.get("input"))
        message = str(item["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if path:
            problems.append(f"{path} = {shown}: {message}{origin}")
        else:
            problems.append(f"{message}{origin}")
    return problems


def _dotted(location: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif parts:
            parts.append(f".{part}")
        else:
            parts.append(str(part))
    return "".join(parts)


def _env_name(location: tuple[Any, ...], env: Mapping[str, str]) -> str | None:
    if not location or any(isinstance(part, int) for part in location):
        return None
    candidate = ENV_PREFIX + "__".join(str(part) for part in location).upper()
    upper = {key.upper(): key for key in env}
    if candidate in upper:
        return upper[candidate]
    top = ENV_PREFIX + str(location[0]).upper()
    return upper.get(top)


def _show_value(value: Any) -> str:
    if isinstance(value, str) and _LOOKS_LIKE_KEY.fullmatch(value.strip()):
        return "<a 64-hex value, not shown>"
    if isinstance(value, Mapping):
        return "{...}"
    text = repr(str(value)) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _suggest(location: tuple[Any, ...]) -> str:
    """'did you mean ...' and the valid keys of the enclosing table."""
    model: type[BaseModel] | None = PolytailConfig
    for part in location[:-1]:
        if model is None:
            return ""
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        model = _model_of(field) if field is not None else None
    if model is None:
        return ""
    valid = sorted(model.model_fields)
    close = difflib.get_close_matches(str(location[-1]), valid, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{hint} Valid keys here: {', '.join(valid)}"


def _model_of(field: FieldInfo) -> type[BaseModel] | None:
    annotation = field.annotation
    candidates = getattr(annotation, "__args__", None) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None

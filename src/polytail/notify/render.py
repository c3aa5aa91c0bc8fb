"""Message text from templates: built in, overridable, always badged, never a secret.

Templates are Jinja2 plain text (`polytail/notify/templates/*.j2`). An operator can
override any of them by putting a file of the same name in `notify.templates_dir`; the
rest stay built in. Templates run sandboxed (they can read what they are given, not call
into the engine), and a broken override falls back to the built-in template with an error
in the log, so a typo never silences notifications.

Whatever a template says, every message starts with the mode badge (`[PAPER]`/`[LIVE]`)
and passes the redactor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import jinja2
import structlog
from jinja2.sandbox import ImmutableSandboxedEnvironment

from polytail.app.services import explain
from polytail.config.redaction import scrub
from polytail.config.schema import Mode
from polytail.domain.money import Price, Shares, Usdc

log = structlog.get_logger(__name__)

BADGES: Final = {Mode.PAPER: "[PAPER]", Mode.LIVE: "[LIVE]"}


def badge(mode: Mode) -> str:
    return BADGES[mode]


def usdc(value: Usdc | Decimal | str | None) -> str:
    """An exact amount with at least two decimals ("12.50", "0.123456")."""
    if value is None:
        return "-"
    whole, _, fraction = str(value).partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def quantity(value: Shares | Price | Decimal | None) -> str:
    return "-" if value is None else str(value)


def short(address: str | None) -> str:
    if not address:
        return ""
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address


def utc(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: int) -> str:
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h {rest // 60}m" if days else f"{hours}h {rest // 60}m"


def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    environment = ImmutableSandboxedEnvironment(
        loader=loader,
        autoescape=False,  # plain text: Telegram gets no parse_mode, webhooks get JSON
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        usdc=usdc, quantity=quantity, short=short, utc=utc, duration=duration, explain=explain
    )
    return environment


class Renderer:
    def __init__(self, mode: Mode, templates_dir: Path | None = None) -> None:
        self.mode = mode
        self._builtin = _environment(jinja2.PackageLoader("polytail.notify", "templates"))
        self._custom: jinja2.Environment | None = None
        if templates_dir is not None:
            folder = templates_dir.expanduser()
            if not folder.is_dir():
                raise FileNotFoundError(
                    f"notify.templates_dir {folder} is not a directory; create it or unset it"
                )
            self._custom = _environment(jinja2.FileSystemLoader(folder))

    def render(self, template: str, context: Mapping[str, Any]) -> str:
        """The badged, scrubbed text of `template` (e.g. "copy.j2") with `context`."""
        text = None
        if self._custom is not None:
            try:
                text = self._custom.get_template(template).render(context)
            except jinja2.TemplateNotFound:
                text = None
            except Exception as error:
                log.error(
                    "notification template override failed; using the built-in one",
                    template=template,
                    error=str(error),
                )
        if text is None:
            text = self._builtin.get_template(template).render(context)
        return scrub(f"{badge(self.mode)} {text.strip()}")

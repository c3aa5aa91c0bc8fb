"""Capture everything polytail logs (through the real redacting chain), then put back the
logging configuration exactly as it was, so later tests run with their usual logging."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from polytail.app.logs import configure_logging

LIBRARIES = ("httpx", "httpcore", "hpack", "websockets", "asyncio", "telegram", "uvicorn")


@contextmanager
def captured_logs(level: str = "DEBUG", *, loud: tuple[str, ...] = ()) -> Iterator[io.StringIO]:
    """`loud` names libraries whose own loggers go to DEBUG too (polytail quiets them)."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    saved_levels = {name: logging.getLogger(name).level for name in (*LIBRARIES, *loud)}
    saved_structlog = structlog.get_config()
    stream = io.StringIO()
    configure_logging(level=level, fmt="json", stream=stream)
    for name in loud:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.handlers = saved_root[0]
        root.setLevel(saved_root[1])
        for name, saved in saved_levels.items():
            logging.getLogger(name).setLevel(saved)
        structlog.configure(**saved_structlog)

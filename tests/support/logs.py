"""Capture everything polytail logs (at DEBUG, through the real redacting chain)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from polytail.app.logs import configure_logging


@contextmanager
def captured_logs(level: str = "DEBUG") -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, structlog.get_config())
    stream = io.StringIO()
    configure_logging(level=level, fmt="json", stream=stream)
    try:
        yield stream
    finally:
        root.handlers, level_before, config = saved[0], saved[1], saved[2]
        root.setLevel(level_before)
        structlog.configure(**config)

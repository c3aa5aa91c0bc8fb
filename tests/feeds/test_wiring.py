"""The feeds run side by side: one that crashes is reported and restarted, alone."""

from __future__ import annotations

import asyncio

import pytest

from polytail.feeds.journal import MemoryJournal
from polytail.feeds.merge import FillMerger
from polytail.feeds.observe import FeedState
from polytail.feeds.watchlist import WatchList
from polytail.feeds.wiring import Feeds

from .test_stream import Recorder


@pytest.mark.looptime
async def test_a_crashing_feed_is_reported_down_and_restarted_while_others_run() -> None:
    recorder = Recorder()
    feeds = Feeds(FillMerger(MemoryJournal(), in_thread=False), WatchList(), observer=recorder)
    attempts = 0
    steady = asyncio.Event()

    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise RuntimeError("socket exploded")
        await asyncio.Event().wait()

    async def healthy() -> None:
        steady.set()
        await asyncio.Event().wait()

    tasks = [
        asyncio.create_task(feeds._supervise("stream", flaky)),
        asyncio.create_task(feeds._supervise("poll", healthy)),
    ]
    await asyncio.sleep(10)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert attempts == 3 and steady.is_set()
    downs = [state for component, state, detail in recorder.states if component == "stream"]
    assert downs == [FeedState.DOWN, FeedState.DOWN]
    assert "socket exploded" in recorder.states[0][2]

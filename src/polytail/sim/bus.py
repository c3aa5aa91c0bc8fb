"""Fan-out of websocket messages to subscribers: CLOB market and user channels, RTDS.

Messages are serialised once and the same text is queued for every subscriber that wants
it. A subscriber that falls too far behind is disconnected (as a real venue drops slow
consumers) rather than slowing everyone else down.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

QUEUE_LIMIT = 50_000


@dataclass(eq=False)
class Subscriber:
    channel: str
    assets: set[str] = field(default_factory=set)
    markets: set[str] = field(default_factory=set)
    all_markets: bool = False
    api_key: str = ""
    topics: set[tuple[str, str]] = field(default_factory=set)
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def send(self, text: str) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= QUEUE_LIMIT:
            self.close()
            return
        self.queue.put_nowait(text)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)

    def wants_rtds(self, topic: str, kind: str) -> bool:
        return (topic, kind) in self.topics or (topic, "*") in self.topics


class Hub:
    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscriber]] = {
            "market": set(),
            "user": set(),
            "rtds": set(),
        }
        self.sent = 0

    def join(self, subscriber: Subscriber) -> None:
        self.subscribers[subscriber.channel].add(subscriber)

    def leave(self, subscriber: Subscriber) -> None:
        self.subscribers[subscriber.channel].discard(subscriber)

    def market(self, asset_id: str, text: str) -> None:
        for subscriber in self.subscribers["market"]:
            if asset_id in subscriber.assets:
                subscriber.send(text)
                self.sent += 1

    def user(self, api_key: str, condition_id: str, text: str) -> None:
        for subscriber in self.subscribers["user"]:
            if subscriber.api_key == api_key and (
                subscriber.all_markets or condition_id in subscriber.markets
            ):
                subscriber.send(text)
                self.sent += 1

    def rtds(self, topic: str, kind: str, text: str) -> None:
        for subscriber in self.subscribers["rtds"]:
            if subscriber.wants_rtds(topic, kind):
                subscriber.send(text)
                self.sent += 1

    def drop(self, channel: str | None = None) -> int:
        """Close every connection of a channel (all channels if None); returns how many."""
        dropped = 0
        for name, subscribers in self.subscribers.items():
            if channel in (None, name):
                for subscriber in list(subscribers):
                    subscriber.close()
                    dropped += 1
        return dropped

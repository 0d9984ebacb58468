"""A bounded cache whose entries are looked up again once they are older than a time to live."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """`None` is a value like any other (a cached "no such member"). Past `max_entries` the
    whole cache is dropped: cheaper than LRU bookkeeping, and refilled within one TTL."""

    def __init__(self, ttl: float, max_entries: int = 50_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[K, tuple[V, float]] = {}

    def get(self, key: K) -> tuple[V] | None:
        """`(value,)` while fresh, else None (a tuple, so a cached None is still a hit)."""
        hit = self._entries.get(key)
        if hit is not None and time.monotonic() - hit[1] < self.ttl:
            return (hit[0],)
        return None

    def put(self, key: K, value: V) -> V:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (value, time.monotonic())
        return value

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        hit = self.get(key)
        if hit is not None:
            return hit[0]
        return self.put(key, await load())

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

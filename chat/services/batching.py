"""Batched lookups: concurrent requests for single documents become one query for all of them.

The group-commit idea applied to reads, as DataLoader does it: while a query is in flight, the
keys asked for meanwhile gather and go together in the next one. No timer and no cache: a lone
lookup goes at once, and every answer is as fresh as a query of its own would be. A reconnect
storm's thousands of handshakes then cost a few queries per batch, not a few per handshake.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_KEYS = 500


class BatchLoader(Generic[K, V]):
    def __init__(self, fetch: Callable[[list[K]], Awaitable[dict[K, V]]]):
        """`fetch(keys)` answers the keys it found; a missing key loads as None."""
        self._fetch = fetch
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._running = False

    async def load(self, key: K) -> V | None:
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._drain(), context=contextvars.Context())
        return await asyncio.shield(future)

    async def load_many(self, keys: Iterable[K]) -> dict[K, V]:
        wanted = list(dict.fromkeys(keys))
        values = await asyncio.gather(*(self.load(k) for k in wanted))
        return {k: v for k, v in zip(wanted, values, strict=True) if v is not None}

    async def _drain(self) -> None:
        try:
            while self._waiting:
                keys = list(self._waiting)[:MAX_KEYS]
                batch = {k: self._waiting.pop(k) for k in keys}
                try:
                    found = await self._fetch(keys)
                except Exception as exc:  # every waiting caller gets the error
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                for key, futures in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(found.get(key))
        finally:
            self._running = False

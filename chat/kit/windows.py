"""Moving-window hit counters kept in this process: the rate limits of a single node.

Each key keeps the times of its hits still inside its window, so a hit costs the hits it expires
and nothing more. (The `limits` package's async memory storage, used before, scheduled a pass over
every key, with a thread hop per key, after each hit: O(keys) per request, and the keys grow with
users.) Keys that fell idle are dropped by a sweep every SWEEP_EVERY hits.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

SWEEP_EVERY = 4096


class MovingWindows:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[str, tuple[float, deque[float]]] = {}  # key -> (window, hit times)
        self._calls = 0

    def hit(self, key: str, limit: int, window: float) -> float | None:
        """Count a hit. None when it is within the limit; else the seconds until one is (and the
        hit is not counted)."""
        wait = self.test(key, limit, window)
        if wait is None:
            self._hits[key][1].append(self._clock())
        return wait

    def test(self, key: str, limit: int, window: float) -> float | None:
        """As `hit`, without counting one."""
        now = self._clock()
        self._calls += 1
        if self._calls % SWEEP_EVERY == 0:
            self._sweep(now)
        entry = self._hits.get(key)
        if entry is None or entry[0] != window:
            entry = self._hits[key] = (window, deque())
        hits = entry[1]
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            return hits[0] + window - now
        return None

    def _sweep(self, now: float) -> None:
        idle = [
            k for k, (window, hits) in self._hits.items() if not hits or hits[-1] <= now - window
        ]
        for key in idle:
            del self._hits[key]

    def __len__(self) -> int:
        return len(self._hits)

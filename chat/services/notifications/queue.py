"""A bounded queue of background jobs, run by a few workers, retried with exponential backoff.

Nothing waits on it: `put` returns at once. Past `limit` jobs the oldest is dropped (one log line
a minute under a flood, not one per job): under overload, fresh notifications are worth more
than stale ones, and memory stays bounded. A job whose handler raises Retry runs again after
1, 2, 4, ... seconds (with jitter), at most `max_tries` times in all.

Two ways to keep the work below what the event loop can spare (acks and broadcasts share it):
`rate` paces the work started per second (a token bucket: a job takes one token, and its handler
may `spend` more for what it found to do), and a job put with a `key` that matches one still
waiting replaces that one's item instead of queueing another. A handler that raises Later puts
its job back for a moment without spending a try or a token (its destination is busy enough).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from chat.kit.log_limit import LogLimit
from chat.metrics import NOTIFICATIONS_DROPPED

log = logging.getLogger("chat.notifications")
T = TypeVar("T")


class Retry(Exception):
    """Raised by a handler: a passing failure (a 5xx, no connection); try again later."""


class Later(Exception):
    """Raised by a handler before it starts any work: not now (enough is in flight to where
    the job goes); the job waits LATER_SECONDS and keeps its tries."""


LATER_SECONDS = 0.25


@dataclass(slots=True)
class Job(Generic[T]):
    item: T
    key: object = None
    tries: int = 0


@dataclass(order=True, slots=True)
class _Due(Generic[T]):
    at: float
    order: int
    job: Job[T] = field(compare=False)


class JobQueue(Generic[T]):
    """`handle(item)` runs each job; `give_up(item, reason)` hears of one whose tries are spent;
    `size(item)` is what a dropped job counts for in chat_notifications_dropped_total."""

    def __init__(
        self,
        handle: Callable[[T], Awaitable[None]],
        give_up: Callable[[T, str], None],
        *,
        limit: int = 10_000,
        workers: int = 4,
        max_tries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        rate: float | None = None,
        burst: int = 50,
        size: Callable[[T], int] = lambda _: 1,
    ) -> None:
        self.handle = handle
        self.give_up = give_up
        self.limit = limit
        self.workers = workers
        self.max_tries = max_tries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._ready: deque[Job[T]] = deque()
        self._waiting: list[_Due[T]] = []  # retries, soonest first
        self._order = itertools.count()
        self._wake = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._closing = False
        self._busy = 0
        self._log = LogLimit(log)
        self._keyed: dict[object, Job[T]] = {}  # jobs put with a key, until they start
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._filled = time.monotonic()
        self.size = size

    def __len__(self) -> int:
        return len(self._ready) + len(self._waiting)

    @property
    def idle(self) -> bool:
        """Nothing queued, waiting for a retry, or running."""
        return not len(self) and not self._busy

    def put(self, item: T, key: object = None) -> None:
        """Queue a job; never waits, never raises. With a `key` that a job not yet started
        has, that job takes this item instead (it keeps its place and its tries)."""
        if self._closing:
            return
        if key is not None:
            waiting = self._keyed.get(key)
            if waiting is not None:
                waiting.item = item
                return
        job = Job(item, key)
        if key is not None:
            self._keyed[key] = job
        self._ready.append(job)
        self._shed()
        self._wake.set()

    def _shed(self) -> None:
        while len(self) > self.limit:
            dropped = self._ready.popleft() if self._ready else heapq.heappop(self._waiting).job
            self._unkey(dropped)
            NOTIFICATIONS_DROPPED.inc(self.size(dropped.item))
            self._log.warning(
                "full", "notifications: queue full at %d jobs; dropping the oldest", self.limit
            )

    def start(self) -> None:
        for n in range(self.workers):
            self._workers.append(asyncio.create_task(self._work(), name=f"notifications-{n}"))

    async def close(self, within: float = 2.0) -> None:
        """Run what is ready for up to `within` seconds, then stop; waiting retries and what
        is still queued are abandoned (said in one line)."""
        self._closing = True
        self._wake.set()
        if self._workers:
            _, pending = await asyncio.wait(self._workers, timeout=within)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            self._workers = []
        left = len(self)
        if left:
            log.warning("notifications: %d jobs abandoned at shutdown", left)
        self._ready.clear()
        self._waiting.clear()
        self._keyed.clear()

    def pending(self, key: object) -> T | None:
        """The item of the job with this key that has not started yet, if any."""
        job = self._keyed.get(key)
        return job.item if job is not None else None

    def release(self, key: object) -> None:
        """Let the next put with this key queue a new job (the waiting one is full)."""
        self._keyed.pop(key, None)

    def _unkey(self, job: Job[T]) -> None:
        if job.key is not None and self._keyed.get(job.key) is job:
            del self._keyed[job.key]

    async def _work(self) -> None:
        while (job := await self._next()) is not None:
            self._unkey(job)  # from now on a job with its key is a new one
            self._busy += 1
            try:
                await self._run(job)
            finally:
                self._busy -= 1

    async def _next(self) -> Job[T] | None:
        """The next job that is due (and, with a rate, has its token); None once closing and
        nothing is ready."""
        while True:
            now = time.monotonic()
            while self._waiting and self._waiting[0].at <= now and not self._closing:
                self._ready.append(heapq.heappop(self._waiting).job)
            if self._ready:
                wait = self._token(now)
                if wait <= 0:
                    return self._ready.popleft()
                await asyncio.sleep(wait)  # meanwhile a newer item may still take its place
                continue
            if self._closing:
                return None
            self._wake.clear()
            timeout = self._waiting[0].at - now if self._waiting else None
            with contextlib.suppress(TimeoutError):  # a retry fell due
                await asyncio.wait_for(self._wake.wait(), timeout)

    def spend(self, units: float) -> None:
        """Take `units` more tokens for work a job turned out to hold (the bucket may go into
        debt: later starts wait until it is paid off)."""
        if self.rate is not None:
            self._tokens -= units

    def _token(self, now: float) -> float:
        """Take a token (at most `rate` starts a second, `burst` at once) and answer 0, or
        answer how long until there is one."""
        if self.rate is None or self._closing:
            return 0
        self._tokens = min(self.burst, self._tokens + (now - self._filled) * self.rate)
        self._filled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0
        return (1 - self._tokens) / self.rate

    async def _run(self, job: Job[T]) -> None:
        job.tries += 1
        try:
            await self.handle(job.item)
        except Retry as exc:
            if job.tries >= self.max_tries or self._closing:
                self.give_up(job.item, f"{exc} (after {job.tries} tries)")
                return
            self._retry_later(job)
        except Later:
            job.tries -= 1
            if self.rate is not None:
                self._tokens = min(self.burst, self._tokens + 1)  # it did no work
            self._wait(job, LATER_SECONDS * random.uniform(0.75, 1.25))  # noqa: S311 - jitter
        except Exception:  # a bug: said with its traceback, and the other jobs go on
            log.exception("notifications: a job failed")

    def _retry_later(self, job: Job[T]) -> None:
        delay = min(self.max_backoff, self.backoff * 2 ** (job.tries - 1))
        self._wait(job, delay * random.uniform(0.75, 1.0))  # noqa: S311 - jitter, not a secret

    def _wait(self, job: Job[T], delay: float) -> None:
        if self._closing:
            return
        if job.key is not None:
            self._keyed.setdefault(job.key, job)  # a newer item may still take its place
        heapq.heappush(self._waiting, _Due(time.monotonic() + delay, next(self._order), job))
        self._shed()
        self._wake.set()

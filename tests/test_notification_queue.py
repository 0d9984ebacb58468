"""The notifications' background queue on its own: bounded (the oldest dropped, said once),
retried with growing delays up to five tries, and closed without hanging on a stuck delivery."""

from __future__ import annotations

import asyncio
import itertools
import time

from chat.services.notifications.queue import JobQueue, Retry
from tests.helpers import eventually


async def test_a_full_queue_drops_the_oldest_and_says_so_once(captured):
    done: list[int] = []

    async def handle(item: int) -> None:
        done.append(item)

    queue: JobQueue[int] = JobQueue(handle, lambda *_: None, limit=3, workers=1)
    for n in range(1000):
        queue.put(n)
    assert len(queue) == 3
    queue.start()

    async def idle() -> bool:
        return queue.idle

    assert await eventually(idle, within=30, every=0.01)
    assert done == [997, 998, 999]
    full = [r for r in captured.records if "queue full" in r.getMessage()]
    assert len(full) == 1, [r.getMessage() for r in full]
    await queue.close()


async def test_a_passing_failure_is_retried_with_growing_delays_five_times_in_all():
    tries: list[float] = []
    given_up: list[str] = []

    async def handle(item: str) -> None:
        tries.append(time.monotonic())
        raise Retry("answered 503")

    queue: JobQueue[str] = JobQueue(
        handle, lambda item, reason: given_up.append(reason), backoff=0.05, max_tries=5
    )
    queue.start()
    queue.put("x")

    async def gave_up() -> list[str]:
        return given_up

    assert await eventually(gave_up, within=60, every=0.02) == ["answered 503 (after 5 tries)"]
    assert len(tries) == 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(tries)]
    for n, gap in enumerate(gaps):  # 0.05 s doubled each time, less at most a quarter of jitter
        assert gap >= 0.75 * 0.05 * 2**n - 0.005, gaps
    await queue.close()


async def test_closing_abandons_a_stuck_delivery_instead_of_hanging(captured):
    started = asyncio.Event()

    async def handle(item: int) -> None:
        started.set()
        await asyncio.sleep(3600)  # a push service that never answers

    queue: JobQueue[int] = JobQueue(handle, lambda *_: None, workers=1)
    queue.start()
    queue.put(1)
    queue.put(2)
    await asyncio.wait_for(started.wait(), 30)
    began = time.monotonic()
    await queue.close(within=0.2)
    assert time.monotonic() - began < 30
    queue.put(3)  # after closing: ignored, never raises
    assert len(queue) == 0
    assert any("1 jobs abandoned" in r.getMessage() for r in captured.records)


async def test_a_keyed_job_not_yet_started_takes_the_newer_item_and_a_rate_paces_the_starts():
    done: list[tuple[str, float]] = []

    async def handle(item: str) -> None:
        done.append((item, time.monotonic()))

    queue: JobQueue[str] = JobQueue(handle, lambda *_: None, workers=2, rate=20, burst=1)
    queue.put("room 1: first", key="room 1")
    queue.put("room 2: only", key="room 2")
    queue.put("room 1: newest", key="room 1")  # the browser will show this one anyway
    for n in range(4):
        queue.put(f"plain {n}")
    began = time.monotonic()
    queue.start()

    async def idle() -> bool:
        return queue.idle

    assert await eventually(idle, within=30, every=0.01)
    assert [item for item, _ in done] == [
        "room 1: newest", "room 2: only", "plain 0", "plain 1", "plain 2", "plain 3",
    ]  # fmt: skip
    # One start at once, then one every 1/20 s: the sixth no sooner than 0.25 s in.
    assert done[-1][1] - began >= 5 / 20 - 0.01
    await queue.close()

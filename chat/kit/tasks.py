"""A set of background tasks that keeps a reference to each until it ends, and cancels the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class TaskSet:
    """asyncio keeps only weak references to tasks: one nobody holds may be collected mid-run."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(
        self, coro: Coroutine[Any, Any, Any], *, name: str | None = None
    ) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def __len__(self) -> int:
        return len(self._tasks)

    def cancel_all(self) -> list[asyncio.Task[Any]]:
        """Cancel every task still running; return them, for a caller that wants to await them."""
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        return pending

    async def close(self) -> None:
        """Cancel every task and wait until each has ended."""
        pending = self.cancel_all()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

"""Rate limits through the `limits` package: memory storage on one node, Redis across nodes."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from chat.errors import RateLimited


class RateLimiter:
    """Named rules (`auth`, `api`, `messages`), each a `limits` string such as `5/15minutes`."""

    def __init__(self, rules: dict[str, str], storage_uri: str = "async+memory://"):
        self._rules: dict[str, RateLimitItem] = {name: parse(text) for name, text in rules.items()}
        self._storage = storage_from_string(storage_uri)
        self._limiter = MovingWindowRateLimiter(self._storage)

    async def hit(self, rule: str, *keys: str) -> None:
        """Count one hit against `rule` for `keys`; raise RateLimited when over the limit."""
        item = self._rules[rule]
        if await self._limiter.hit(item, rule, *keys):
            return
        stats = await self._limiter.get_window_stats(item, rule, *keys)
        raise RateLimited(math.ceil(stats.reset_time - time.time()))

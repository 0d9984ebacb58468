"""Rate limits: moving windows in memory on one node (chat/kit/windows.py), in Redis through the
`limits` package across nodes."""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from chat.errors import RateLimited
from chat.kit.outage import OutageLog
from chat.kit.windows import MovingWindows
from chat.metrics import RATE_LIMITED

log = logging.getLogger("chat.ratelimit")


class RateLimiter:
    """Named rules (`auth`, `api`, `messages`, ...), each a `limits` string such as `5/15minutes`.

    `redis_url` shares the counts between nodes. If that storage fails, requests are let through
    (and the outage logged once): a dead Redis must not stop people from chatting.
    """

    def __init__(self, rules: dict[str, str], redis_url: str = "") -> None:
        self._rules: dict[str, RateLimitItem] = {name: parse(text) for name, text in rules.items()}
        self._memory: MovingWindows | None = None
        self._limiter: MovingWindowRateLimiter | None = None
        if redis_url:
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            storage = storage_from_string(uri, implementation="redispy", key_prefix="chat:limits")
            self._limiter = MovingWindowRateLimiter(storage)
        else:
            self._memory = MovingWindows()
        self._outage = OutageLog(
            log,
            "rate-limit storage unreachable; letting requests through",
            "rate-limit storage reachable again",
        )

    async def hit(self, rule: str, *keys: str) -> None:
        """Count one hit against `rule` for `keys`; raise RateLimited when over the limit."""
        await self._hit(self._rules[rule], rule, keys)

    async def hit_once_per(self, seconds: int, rule: str, *keys: str) -> None:
        """`hit` with a limit of one per `seconds`, chosen by the caller (a room's slow mode)."""
        await self._hit(RateLimitItemPerSecond(1, seconds), rule, keys)

    async def _hit(self, item: RateLimitItem, rule: str, keys: tuple[str, ...]) -> None:
        if self._memory is not None:
            wait = self._memory.hit(_key(item, rule, keys), item.amount, item.get_expiry())
            if wait is not None:
                _refuse(rule, wait)
            return
        assert self._limiter is not None
        try:
            if await self._limiter.hit(item, rule, *keys):
                self._outage.up()
                return
            stats = await self._limiter.get_window_stats(item, rule, *keys)
        except Exception as exc:  # the storage's own errors: redis-py raises several types
            self._outage.down(exc)
            return
        RATE_LIMITED.labels(rule).inc()
        raise RateLimited(math.ceil(stats.reset_time - time.time()))

    async def check(self, rule: str, *keys: str) -> None:
        """Raise RateLimited if `keys` are over `rule` already, without counting a hit (for
        limits that only failures count, such as failed logins per account)."""
        item = self._rules[rule]
        if self._memory is not None:
            wait = self._memory.test(_key(item, rule, keys), item.amount, item.get_expiry())
            if wait is not None:
                _refuse(rule, wait)
            return
        assert self._limiter is not None
        try:
            if await self._limiter.test(item, rule, *keys):
                return
            stats = await self._limiter.get_window_stats(item, rule, *keys)
        except Exception as exc:  # as in hit(): an unreachable storage lets requests through
            self._outage.down(exc)
            return
        RATE_LIMITED.labels(rule).inc()
        raise RateLimited(math.ceil(stats.reset_time - time.time()))


def _key(item: RateLimitItem, rule: str, keys: tuple[str, ...]) -> str:
    # The item is part of the key: one rule may be counted with several limits (slow mode).
    return "/".join((rule, str(item.amount), str(item.get_expiry()), *keys))


def _refuse(rule: str, wait: float) -> None:
    RATE_LIMITED.labels(rule).inc()
    raise RateLimited(max(1, math.ceil(wait)))

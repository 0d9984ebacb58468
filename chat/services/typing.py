"""Typing indicators: announced on change only, expired after TYPING_TIMEOUT, stopped by a send."""

from __future__ import annotations

import asyncio
import logging

from chat.kit.tasks import TaskSet
from chat.ratelimit import RateLimiter
from chat.services.access import Access
from chat.services.events import Audience, Publisher
from chat.services.room_rules import RoomRulesCache

log = logging.getLogger("chat.typing")


class TypingService:
    def __init__(
        self,
        access: Access,
        publisher: Publisher,
        timeout: float,
        limiter: RateLimiter | None = None,
        rules: RoomRulesCache | None = None,
    ) -> None:
        self.access = access
        self.rules = rules
        self.publisher = publisher
        self.timeout = timeout
        self.limiter = limiter
        # (room, user) -> the timer that will announce them stopped, and the typist's name (a
        # send stops typing without knowing it). Present = typing.
        self._typing: dict[tuple[str, str], tuple[asyncio.TimerHandle, str]] = {}
        self._tasks = TaskSet()  # announcements of typists who stopped by timing out

    async def start(self, user_id: str, name: str, room_id: str) -> None:
        await self.access.member_of(user_id, room_id)
        key = (room_id, user_id)
        if key not in self._typing:
            await self._may_write(user_id, room_id)
        if key not in self._typing and self.limiter is not None:
            # A start after a stop is an announcement to the whole room: at most one per room per
            # RATE_LIMIT_TYPING (start/stop toggling broadcast 5,000 times in 2.3 s).
            await self.limiter.hit("typing", user_id, room_id)
        entry = self._typing.pop(key, None)
        loop = asyncio.get_running_loop()
        self._typing[key] = (loop.call_later(self.timeout, self._expire, key, name), name)
        if entry is not None:
            # Already typing: only the timer moves. Repeats (and floods) cost nothing downstream.
            entry[0].cancel()
            return
        await self._announce(room_id, user_id, name, True)

    async def _may_write(self, user_id: str, room_id: str) -> None:
        """A member muted there (or in a direct room blocked either way) shows no typing. From
        this node's rules cache: a change made on another node may take RULES_CACHE_SECONDS
        to reach a typing indicator (sends are checked exactly: services/room_rules.py)."""
        if self.rules is None:
            return
        rules = await self.rules.of(room_id)
        refusal = await self.rules.refusal(rules, user_id) if rules is not None else None
        if refusal is not None:
            raise refusal

    async def stop(
        self, user_id: str, room_id: str, *, name: str = "", quiet_if_idle: bool = False
    ) -> None:
        """Announce the typist stopped, under the name they started with when none is given."""
        if not quiet_if_idle:
            await self.access.member_of(user_id, room_id)
        entry = self._typing.pop((room_id, user_id), None)
        if entry is None:
            return
        timer, started_as = entry
        timer.cancel()
        await self._announce(room_id, user_id, name or started_as, False)

    def _expire(self, key: tuple[str, str], name: str) -> None:
        if self._typing.pop(key, None) is None:
            return
        self._tasks.spawn(self._announce(key[0], key[1], name, False))

    async def _announce(self, room_id: str, user_id: str, name: str, typing: bool) -> None:
        payload = {"roomId": room_id, "userId": user_id, "name": name, "isTyping": typing}
        # To the room, but not to the typist's own sockets.
        await self.publisher.publish(
            "user-typing", payload, Audience(rooms=(room_id,), skip_users=(user_id,))
        )

    async def close(self) -> None:
        for timer, _ in self._typing.values():
            timer.cancel()
        self._typing.clear()
        await self._tasks.close()

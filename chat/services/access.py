"""Who may read and write a room: the permission rules every room and message action shares."""

from __future__ import annotations

import time
from typing import Any

from chat.errors import Forbidden, NotFound
from chat.store import Store
from chat.store.base import is_id

Doc = dict[str, Any]

MANAGERS = ("owner", "admin")


class Access:
    def __init__(self, store: Store, cache_seconds: float = 5.0):
        self.store = store
        # (room, user) -> (membership, when): hot paths (typing) ask the same question many times.
        self._members: dict[tuple[str, str], tuple[Doc | None, float]] = {}
        self._ttl = cache_seconds

    async def room(self, room_id: str) -> Doc:
        room = await self.store.rooms.get(room_id) if is_id(room_id) else None
        if room is None:
            raise NotFound("Room not found")
        return room

    async def membership(self, room_id: str, user_id: str, *, cached: bool = False) -> Doc | None:
        key = (room_id, user_id)
        if cached:
            hit = self._members.get(key)
            if hit is not None and time.monotonic() - hit[1] < self._ttl:
                return hit[0]
        member = await self.store.members.get(room_id, user_id)
        self._members[key] = (member, time.monotonic())
        if len(self._members) > 50_000:
            self._members.clear()
        return member

    def forget(self, room_id: str, user_id: str) -> None:
        self._members.pop((room_id, user_id), None)

    async def readable(self, user_id: str, room_id: str) -> tuple[Doc, Doc | None]:
        """Public rooms: any signed-in user. Private and direct: members; others get NOT_FOUND."""
        room = await self.room(room_id)
        member = await self.membership(room_id, user_id)
        if member is None and room["type"] != "public":
            raise NotFound("Room not found")
        return room, member

    async def writable(self, user_id: str, room_id: str) -> tuple[Doc, Doc]:
        """Members only: FORBIDDEN for a public room you have not joined, else NOT_FOUND."""
        room = await self.room(room_id)
        member = await self.membership(room_id, user_id)
        if member is None:
            if room["type"] == "public":
                raise Forbidden("Join the room first")
            raise NotFound("Room not found")
        return room, member

    async def writer(self, user_id: str, room_id: str) -> Doc:
        """The membership that lets the user write here (one query on the hot path of a send);
        the room itself is fetched only to word a refusal."""
        member = await self.membership(room_id, user_id) if is_id(room_id) else None
        if member is not None:
            return member
        room = await self.room(room_id)
        if room["type"] == "public":
            raise Forbidden("Join the room first")
        raise NotFound("Room not found")

    async def member_of(self, user_id: str, room_id: str) -> Doc:
        """A membership, from a short cache: for frequent, low-stakes events such as typing."""
        member = await self.membership(room_id, user_id, cached=True) if is_id(room_id) else None
        if member is None:
            raise NotFound("Room not found")
        return member


def require_role(member: Doc, roles: tuple[str, ...], action: str) -> None:
    if member["role"] not in roles:
        raise Forbidden(f"Only the room's {' or '.join(roles)} may {action}")

"""Who may read and write a room: the permission rules every room and message action shares."""

from __future__ import annotations

from chat.domain import MANAGERS as MANAGERS
from chat.domain import Member, Role, Room
from chat.errors import Forbidden, NotFound
from chat.kit.ttl_cache import TtlCache
from chat.store import Store
from chat.store.base import is_id


class Access:
    def __init__(self, store: Store, cache_seconds: float = 5.0):
        self.store = store
        # (room, user) -> membership: hot paths (typing) ask the same question many times.
        self._members: TtlCache[tuple[str, str], Member | None] = TtlCache(cache_seconds)

    async def room(self, room_id: str) -> Room:
        room = await self.store.rooms.get(room_id) if is_id(room_id) else None
        if room is None:
            raise NotFound("Room not found")
        return room

    async def membership(
        self, room_id: str, user_id: str, *, cached: bool = False
    ) -> Member | None:
        """The user's membership of the room, or None; `cached`: from up to a few seconds ago.
        A fresh look-up refreshes the cache."""
        key = (room_id, user_id)
        if cached:
            hit = self._members.get(key)
            if hit is not None:
                return hit[0]
        return self._members.put(key, await self.store.members.get(room_id, user_id))

    def forget(self, room_id: str, user_id: str) -> None:
        self._members.forget((room_id, user_id))

    async def readable(self, user_id: str, room_id: str) -> tuple[Room, Member | None]:
        """Public rooms: any signed-in user. Private and direct: members; others get NOT_FOUND."""
        room = await self.room(room_id)
        member = await self.membership(room_id, user_id)
        if member is None and room.type != "public":
            raise NotFound("Room not found")
        return room, member

    async def writable(self, user_id: str, room_id: str) -> tuple[Room, Member]:
        """Members only: FORBIDDEN for a public room you have not joined, else NOT_FOUND."""
        room = await self.room(room_id)
        member = await self.membership(room_id, user_id)
        if member is None:
            if room.type == "public":
                raise Forbidden("Join the room first")
            raise NotFound("Room not found")
        return room, member

    async def writer(self, user_id: str, room_id: str) -> Member:
        """The membership that lets the user write here (one query on the hot path of a send);
        the room itself is fetched only to word a refusal."""
        member = await self.membership(room_id, user_id) if is_id(room_id) else None
        if member is not None:
            return member
        room = await self.room(room_id)
        if room.type == "public":
            raise Forbidden("Join the room first")
        raise NotFound("Room not found")

    async def member_of(self, user_id: str, room_id: str) -> Member:
        """A membership, from a short cache: for frequent, low-stakes events such as typing."""
        member = await self.membership(room_id, user_id, cached=True) if is_id(room_id) else None
        if member is None:
            raise NotFound("Room not found")
        return member


def require_role(member: Member, roles: tuple[Role, ...], action: str) -> None:
    if member.role not in roles:
        raise Forbidden(f"Only the room's {' or '.join(roles)} may {action}")

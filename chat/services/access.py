"""Who may read and write a room: the permission rules every room and message action shares."""

from __future__ import annotations

from chat.domain import MANAGERS as MANAGERS
from chat.domain import Member, Role, Room, User
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
        """The room and the user's membership, if they may read it (`may_read`); else NOT_FOUND,
        as for a room that does not exist."""
        room = await self.room(room_id)
        member = await self.membership(room_id, user_id)
        if member is None and not await self._outsider_reads(user_id, room):
            raise NotFound("Room not found")
        return room, member

    async def can_read(self, user_id: str, room_id: str) -> bool:
        """`may_read` as a yes or no, the membership from the short cache: for a list of
        messages from many rooms (mentions), asked once per room."""
        if not is_id(room_id):
            return False
        if await self.membership(room_id, user_id, cached=True) is not None:
            return True
        room = await self.store.rooms.get(room_id)
        return room is not None and await self._outsider_reads(user_id, room)

    async def readable_rooms(self, user_id: str, rooms: list[Room]) -> list[Room]:
        """The rooms among these that the user may read (`may_read`), in two queries at most:
        the memberships, then the bans of the public rooms they are not a member of."""
        members = await self.store.members.many([(room.id, user_id) for room in rooms])
        outside = [r.id for r in rooms if r.type == "public" and (r.id, user_id) not in members]
        banned = await self.store.bans.rooms_of(user_id, outside) if outside else set()
        return [r for r in rooms if may_read(r, (r.id, user_id) in members, r.id in banned)]

    async def _outsider_reads(self, user_id: str, room: Room) -> bool:
        """Whether someone who is not a member may read the room. The ban is read fresh (one
        lookup by id, only for a public room): it holds on every node from the moment it is
        stored."""
        if room.type != "public":
            return False
        return may_read(room, False, await self.store.bans.get(room.id, user_id) is not None)

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


def may_read(room: Room, member: bool, banned: bool) -> bool:
    """The one read rule: a member reads their room; anyone else signed in reads a public room
    unless banned from it (a ban removes a member, so it never needs checking for one). Every
    read of a room's content, members, files or presence passes here (Access.readable, can_read,
    readable_rooms); search reads only the rooms you are a member of."""
    return member or (room.type == "public" and not banned)


async def existing_user(store: Store, user_id: str) -> User:
    """The user with this id, or NOT_FOUND: for actions on another user (block, ban, mute,
    disable)."""
    user = await store.users.get(user_id) if is_id(user_id) else None
    if user is None:
        raise NotFound("User not found")
    return user


def require_role(member: Member, roles: tuple[Role, ...], action: str) -> None:
    if member.role not in roles:
        raise Forbidden(f"Only the room's {' or '.join(roles)} may {action}")

"""Blocking: silent and mutual for direct rooms. Neither of two users one of whom blocks the
other can open a direct room with the other, or write to the one they have (room_rules.py
refuses it; its rules take a new version when a block is made or lifted); a blocked user's
messages notify the blocker of nothing (notifications/dispatch.py). Nobody is told they were
blocked: the refusals read the same from both sides.

`allowDirectFrom: shared` is checked here too: such a user's direct rooms are opened only by
people who share a room with them (a group room: a direct room does not count)."""

from __future__ import annotations

from chat.domain import User
from chat.errors import Forbidden, ValidationFailed
from chat.services.access import existing_user
from chat.services.presenters.shapes import UserWire
from chat.services.room_rules import RoomRulesCache
from chat.services.users import UserService
from chat.store import Store

MAX_LISTED = 1000


class BlockService:
    def __init__(self, store: Store, users: UserService, rules: RoomRulesCache):
        self.store = store
        self.users = users
        self.rules = rules

    async def _other(self, user_id: str, other_id: str) -> User:
        if other_id == user_id:
            raise ValidationFailed("You cannot block yourself")
        return await existing_user(self.store, other_id)

    async def block(self, user_id: str, other_id: str) -> None:
        """Block (again: no change)."""
        await self._other(user_id, other_id)
        if await self.store.blocks.add(user_id, other_id):
            await self._direct_room_changed(user_id, other_id)

    async def unblock(self, user_id: str, other_id: str) -> None:
        """Lift a block (none: no change)."""
        await self._other(user_id, other_id)
        if await self.store.blocks.remove(user_id, other_id):
            await self._direct_room_changed(user_id, other_id)

    async def blocked(self, user_id: str) -> list[UserWire]:
        """The users you block, most recently blocked first."""
        ids = await self.store.blocks.blocked_by(user_id, MAX_LISTED)
        by_id = {u.id: u for u in await self.store.users.many(ids)}
        return await self.users.views([by_id[i] for i in ids if i in by_id])

    async def _direct_room_changed(self, one: str, other: str) -> None:
        """Sends to their direct room, on every node, are checked against the block anew."""
        room = await self.store.rooms.direct_of((one, other))
        if room is not None:
            await self.store.rooms.bump_rules(room.id)
            self.rules.forget(room.id)


async def check_direct(store: Store, user_id: str, other: User, *, new: bool) -> None:
    """Refuse `user_id` the direct room with `other` if either blocks the other, or, for a
    room not made yet, if `other` takes direct rooms only from people they share a room with."""
    if await store.blocks.between(user_id, other.id):
        raise Forbidden("You cannot open a direct room with this user")
    if new and other.allow_direct_from == "shared" and not await shares_room(store, user_id, other):
        raise Forbidden("This user takes direct messages only from people in a room with them")


async def shares_room(store: Store, user_id: str, other: User) -> bool:
    """Whether the two are members of one public or private room (direct rooms do not count)."""
    mine = set(await store.members.room_ids(user_id))
    both = [r for r in await store.members.room_ids(other.id) if r in mine]
    return any(room.type != "direct" for room in await store.rooms.many(both))

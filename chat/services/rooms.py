"""Rooms: create, change, delete, list and read them, invite codes. Membership (join, leave,
kick, roles) lives in services/membership.py and direct rooms in services/direct.py; RoomService
is the one door to all three, so the transports call `services.rooms.*` for everything about rooms.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from chat.domain import MANAGERS, NotifyLevel, Role, RoomType
from chat.errors import ChatError, Forbidden, NotFound, ValidationFailed
from chat.security import random_code
from chat.services.access import Access, require_role
from chat.services.batching import BatchLoader
from chat.services.direct import DirectRooms
from chat.services.events import Audience, Publisher
from chat.services.membership import Membership, RoomFiles
from chat.services.presenters.rooms import room_view
from chat.services.presenters.shapes import MemberWire, RoleChange, RoomWire
from chat.services.room_views import RoomViews
from chat.services.users import UserService
from chat.store import Store

__all__ = ["RoomFiles", "RoomService"]


class RoomService:
    def __init__(
        self,
        store: Store,
        access: Access,
        publisher: Publisher,
        users: UserService,
        files: RoomFiles,
    ):
        self.store = store
        self.access = access
        self.views = RoomViews(store, access, publisher, users)
        self.membership = Membership(store, access, publisher, users, self.views, files)
        self.direct_rooms = DirectRooms(store, access, self.views, self.membership)
        self._room_ids: BatchLoader[str, list[str]] = BatchLoader(store.members.room_ids_of)
        # Told of each level chosen: notifications' quiet-room cache (set by factory.py).
        self.on_level_change: Callable[[str], None] = lambda room_id: None

    # -- queries --------------------------------------------------------------------------------

    async def list_public(
        self, user_id: str, q: str, skip: int, limit: int
    ) -> tuple[list[RoomWire], int]:
        """Public rooms by name; one the viewer is banned from shows no last message (a banned
        user reads nothing of the room)."""
        rooms, total = await self.store.rooms.list_public(q, skip, limit)
        banned = await self.store.bans.rooms_of(user_id, [r.id for r in rooms]) if rooms else set()
        views = [room_view(r) for r in rooms]
        for view in views:
            if view["id"] in banned:
                view["lastMessage"] = None
        return views, total

    async def mine(self, user_id: str, *, exclude: Collection[str] = ()) -> list[RoomWire]:
        """The user's rooms (but those in `exclude`), most recent activity first, each with its
        unread count."""
        members = {
            m.room_id: m
            for m in await self.store.members.of_user(user_id)
            if m.room_id not in exclude
        }
        views = []
        for room in await self.store.rooms.many(list(members)):
            member = members[room.id]
            unread = 0
            if room.last_seq > member.last_read_seq:
                unread = await self.store.messages.count_unread(
                    room.id, member.last_read_seq, user_id
                )
            views.append(await self.views.view_for(room, user_id, member, unread=unread))
        return views

    async def room_ids(self, user_id: str) -> list[str]:
        """The user's rooms; handshakes arriving together share one query."""
        return await self._room_ids.load(user_id) or []

    async def get(self, user_id: str, room_id: str) -> RoomWire:
        room, member = await self.access.readable(user_id, room_id)
        return await self.views.view_for(room, user_id, member)

    # -- changes --------------------------------------------------------------------------------

    async def create(self, user_id: str, name: str, description: str, kind: RoomType) -> RoomWire:
        invite_code = random_code() if kind == "private" else None
        room = await self.store.rooms.insert(
            kind, name, description, user_id, invite_code=invite_code
        )
        if room is None:  # only if a fresh 144-bit invite code was taken already
            raise ChatError("The room could not be created: try again")
        await self.membership.add(room, user_id, "owner", announce=False)
        room.member_count = 1
        await self.views.announce("room-created", room)
        return await self.views.view_for(room, user_id)

    async def update(self, user_id: str, room_id: str, fields: Mapping[str, Any]) -> RoomWire:
        """Change a room's name, description, type or slow mode (owner and admins); a room made
        private gets an invite code, a room made public loses it."""
        room, member = await self.access.writable(user_id, room_id)
        require_role(member, MANAGERS, "change it")
        if room.type == "direct":
            raise Forbidden("Direct rooms cannot be changed")
        kind = fields.get("type")
        updated = await self.store.rooms.update(
            room_id,
            name=fields.get("name"),
            description=fields.get("description"),
            kind=kind,
            invite_code=random_code() if kind == "private" and room.type != "private" else None,
            drop_invite_code=kind == "public" and room.type == "private",
            slow_mode_seconds=fields.get("slowModeSeconds"),
        )
        if updated is None:
            raise NotFound("Room not found")
        await self.views.announce("room-updated", updated)
        return await self.views.view_for(updated, user_id, member)

    async def set_notifications(self, user_id: str, room_id: str, level: NotifyLevel) -> RoomWire:
        """The member's notification level for the room; their other devices get room-updated."""
        room, _ = await self.access.writable(user_id, room_id)
        member = await self.store.members.set_notifications(room_id, user_id, level)
        if member is None:
            raise NotFound("Room not found")
        self.access.forget(room_id, user_id)
        self.on_level_change(room_id)
        view = await self.views.view_for(room, user_id, member)
        await self.views.publisher.publish(
            "room-updated", {"room": view}, Audience.of_users([user_id])
        )
        return view

    async def new_invite_code(self, user_id: str, room_id: str) -> str:
        room, member = await self.access.writable(user_id, room_id)
        require_role(member, MANAGERS, "make invite codes")
        if room.type != "private":
            raise ValidationFailed("Only private rooms have invite codes")
        code = random_code()
        await self.store.rooms.update(room_id, invite_code=code)
        return code

    async def delete(self, user_id: str, room_id: str) -> None:
        room, member = await self.access.writable(user_id, room_id)
        require_role(member, ("owner",), "delete it")
        if room.type == "direct":
            raise Forbidden("Direct rooms cannot be deleted")
        await self.membership.close(room)

    # -- membership and direct rooms (services/membership.py, services/direct.py) ---------------

    async def members(self, user_id: str, room_id: str) -> list[MemberWire]:
        return await self.membership.members(user_id, room_id)

    async def join(self, user_id: str, room_id: str, invite_code: str | None = None) -> RoomWire:
        return await self.membership.join(user_id, room_id, invite_code)

    async def join_by_invite(self, user_id: str, invite_code: str) -> RoomWire:
        return await self.membership.join_by_invite(user_id, invite_code)

    async def set_role(self, user_id: str, room_id: str, target_id: str, role: Role) -> RoleChange:
        return await self.membership.set_role(user_id, room_id, target_id, role)

    async def kick(self, user_id: str, room_id: str, target_id: str) -> None:
        await self.membership.kick(user_id, room_id, target_id)

    async def leave(self, user_id: str, room_id: str) -> None:
        await self.membership.leave(user_id, room_id)

    async def direct(self, user_id: str, other_id: str) -> RoomWire:
        return await self.direct_rooms.direct(user_id, other_id)

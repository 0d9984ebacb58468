"""Membership: join, leave, kick, roles, the owner's succession, member lists, and the end of a
room (the owner deletes it, or the last one out leaves)."""

from __future__ import annotations

from typing import Protocol

from chat.domain import MANAGERS, Member, Role, Room
from chat.errors import Forbidden, NotFound, ValidationFailed
from chat.services.access import Access, require_role
from chat.services.events import Audience, Publisher
from chat.services.presenters.rooms import member_view
from chat.services.presenters.shapes import MemberWire, RoleChange, RoomWire
from chat.services.room_views import RoomViews
from chat.services.users import UserService
from chat.store import Store
from chat.store.base import is_id

# Who inherits a room from an owner who leaves: the longest-standing admin, else member.
SUCCESSION: tuple[Role, ...] = ("admin", "member")
BANNED = "You are banned from this room"


class RoomFiles(Protocol):
    async def delete_room(self, room_id: str) -> None:
        """Delete the stored files of a room's messages (before the messages themselves go)."""


class Membership:
    def __init__(
        self,
        store: Store,
        access: Access,
        publisher: Publisher,
        users: UserService,
        views: RoomViews,
        files: RoomFiles,
    ):
        self.store = store
        self.access = access
        self.publisher = publisher
        self.users = users
        self.views = views
        self.files = files

    async def members(self, user_id: str, room_id: str) -> list[MemberWire]:
        """The room's members, longest-standing first, for anyone who may read it."""
        await self.access.readable(user_id, room_id)
        members = await self.store.members.of_room(room_id)
        users = await self.store.users.many([m.user_id for m in members])
        by_id = {v["id"]: v for v in await self.users.views(users)}
        return [member_view(m, by_id[m.user_id]) for m in members if m.user_id in by_id]

    async def add(self, room: Room, user_id: str, role: Role, *, announce: bool = True) -> Member:
        """Make the user a member (no change if they are one), subscribe their sockets, and
        unless told otherwise tell the room (member-joined)."""
        member, created = await self.store.members.add(room.id, user_id, role)
        self.access.forget(room.id, user_id)
        if created:
            if room.type != "direct":  # a direct room is created with its count of 2
                await self.store.rooms.add_members(room.id, 1)
            await self.publisher.subscribe(user_id, room.id)
            if announce:
                user = await self.users.view_of(user_id)
                payload = {"roomId": room.id, "user": user, "role": role}
                await self.publisher.publish("member-joined", payload, Audience.room(room.id))
        return member

    async def join(self, user_id: str, room_id: str, invite_code: str | None = None) -> RoomWire:
        """Join a public room, or a private one with its current invite code; never a room that
        banned you."""
        room = await self.access.room(room_id)
        member = await self.access.membership(room_id, user_id)
        if member is None:
            if room.type == "direct" or (
                room.type == "private" and (not invite_code or invite_code != room.invite_code)
            ):
                raise NotFound("Room not found")
            await self._not_banned(room_id, user_id)
            member = await self.add(room, user_id, "member")
            # A ban made while this join was on its way found no member to remove: look again.
            if await self.store.bans.get(room_id, user_id) is not None:
                await self.remove(room, user_id, "banned")
                raise Forbidden(BANNED)
            room = await self.access.room(room_id)
        return await self.views.view_for(room, user_id, member)

    async def _not_banned(self, room_id: str, user_id: str) -> None:
        if await self.store.bans.get(room_id, user_id) is not None:
            raise Forbidden(BANNED)

    async def join_by_invite(self, user_id: str, invite_code: str) -> RoomWire:
        room = await self.store.rooms.by_invite_code(invite_code)
        if room is None or room.type != "private":
            raise NotFound("Invalid invite code")
        return await self.join(user_id, room.id, invite_code)

    async def over(
        self, user_id: str, room_id: str, target_id: str, doing: str
    ) -> tuple[Room, Member | None]:
        """The room and the target's membership (None: not a member) if the caller may remove,
        ban or mute the target there: an owner or admin, over anyone but the owner, and over
        an admin only if the owner. `doing` words a refusal ("remove members")."""
        room, member = await self.access.writable(user_id, room_id)
        require_role(member, MANAGERS, doing)
        if room.type == "direct":
            raise Forbidden("Nobody can be removed, banned or muted in a direct room")
        if target_id == user_id:
            raise ValidationFailed("Not yourself: use leave to leave a room")
        target = await self.store.members.get(room_id, target_id) if is_id(target_id) else None
        if target is not None and (
            target.role == "owner" or (target.role == "admin" and member.role != "owner")
        ):
            raise Forbidden("Only the owner may do this to an admin, and nobody to the owner")
        return room, target

    async def _target(self, room_id: str, target_id: str) -> Member:
        target = await self.store.members.get(room_id, target_id) if is_id(target_id) else None
        if target is None:
            raise NotFound("Not a member of this room")
        return target

    async def set_role(self, user_id: str, room_id: str, target_id: str, role: Role) -> RoleChange:
        _, member = await self.access.writable(user_id, room_id)
        require_role(member, ("owner",), "change roles")
        target = await self._target(room_id, target_id)
        if target.role == "owner":
            raise Forbidden("The owner's role cannot be changed")
        updated = await self.store.members.set_role(room_id, target_id, role)
        self.access.forget(room_id, target_id)
        await self.store.rooms.bump_rules(room_id)  # who is spared slow mode changed
        payload = {"roomId": room_id, "userId": target_id, "role": role}
        await self.publisher.publish("member-role-updated", payload, Audience.room(room_id))
        return {"userId": target_id, "role": updated.role if updated else role}

    async def kick(self, user_id: str, room_id: str, target_id: str) -> None:
        room, target = await self.over(user_id, room_id, target_id, "remove members")
        if target is None:
            raise NotFound("Not a member of this room")
        await self.remove(room, target_id, "kicked")

    async def leave(self, user_id: str, room_id: str) -> None:
        """Leave a room; an owner hands it to their successor first, and the last one out
        deletes it."""
        room, member = await self.access.writable(user_id, room_id)
        if room.type == "direct":
            raise Forbidden("Direct rooms cannot be left")
        if member.role != "owner":
            await self.remove(room, user_id, "left")
            return
        heir = await self._successor(room_id, user_id)
        if heir is None:  # the last one out: the room goes
            await self.close(room)
            return
        await self.store.members.set_role(room_id, heir.user_id, "owner")
        self.access.forget(room_id, heir.user_id)
        room = await self.store.rooms.update(room_id, owner_id=heir.user_id) or room
        await self.store.rooms.bump_rules(room_id)  # who is spared slow mode changed
        await self.remove(room, user_id, "left")
        # Read again: the announcement carries the member count without the one who left.
        await self.views.announce("room-updated", await self.access.room(room_id))

    async def _successor(self, room_id: str, owner_id: str) -> Member | None:
        for role in SUCCESSION:
            heir = await self.store.members.longest_standing(room_id, role, other_than=owner_id)
            if heir is not None:
                return heir
        return None

    async def remove(self, room: Room, user_id: str, reason: str) -> None:
        """Take the user out: the room and their own sockets hear `member-left` with `reason`
        (left, kicked, banned), then every socket of theirs, on every node, leaves the room."""
        if not await self.store.members.remove(room.id, user_id):
            raise NotFound("Not a member of this room")
        self.access.forget(room.id, user_id)
        await self.store.rooms.add_members(room.id, -1)
        payload = {"roomId": room.id, "userId": user_id, "reason": reason}
        # The room hears it, and so do the user's own sockets, before they leave the channel.
        await self.publisher.publish(
            "member-left", payload, Audience(rooms=(room.id,), users=(user_id,))
        )
        await self.publisher.unsubscribe(user_id, room.id)

    async def close(self, room: Room) -> None:
        """The end of a room: its members are told and let go, its files, messages, reactions
        and memberships deleted."""
        member_ids = await self.store.members.user_ids(room.id)
        await self.publisher.publish("room-deleted", {"roomId": room.id}, Audience.room(room.id))
        await self.files.delete_room(room.id)
        await self.store.rooms.delete(room.id)
        await self.store.messages.delete_room(room.id)
        await self.store.reactions.delete_room(room.id)
        await self.store.members.delete_room(room.id)
        await self.store.bans.delete_room(room.id)
        await self.store.mutes.delete_room(room.id)
        for uid in member_ids:
            self.access.forget(room.id, uid)
            await self.publisher.unsubscribe(uid, room.id)

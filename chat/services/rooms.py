"""Rooms and membership: create, list, join, leave, roles, invite codes, kicks, direct rooms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from chat.errors import Forbidden, NotFound, ValidationFailed
from chat.security import random_code
from chat.services.access import MANAGERS, Access, require_role
from chat.services.batching import BatchLoader
from chat.services.events import Audience, Publisher
from chat.services.presenters.rooms import room_view
from chat.services.presenters.time import iso
from chat.services.users import UserService
from chat.store import Store, new_id, now_ms
from chat.store.base import is_id

Doc = dict[str, Any]

# Called with a deleted room's id before its messages go, so stored files can go with them.
RoomFilesCleaner = Callable[[str], Awaitable[None]]


class RoomService:
    def __init__(self, store: Store, access: Access, publisher: Publisher, users: UserService):
        self.store = store
        self.access = access
        self.publisher = publisher
        self.users = users
        self.files_cleaner: RoomFilesCleaner | None = None
        self._room_ids: BatchLoader[str, list[str]] = BatchLoader(store.members.room_ids_of)

    # -- views ----------------------------------------------------------------------------------

    async def view_for(self, room: Doc, user_id: str, member: Doc | None = None) -> Doc:
        if member is None:
            member = await self.access.membership(room["_id"], user_id)
        peer = await self._peer(room, user_id) if room["type"] == "direct" else None
        return room_view(room, member, peer=peer)

    async def _peer(self, room: Doc, user_id: str) -> Doc | None:
        other = next((u for u in room.get("directUsers", []) if u != user_id), None)
        doc = await self.store.users.get(other) if other else None
        return await self.users.view(doc) if doc else None

    async def _announce_room(self, event: str, room: Doc) -> None:
        """room-created / room-updated to each member, each seeing their own role and code."""
        for member in await self.store.members.of_room(room["_id"]):
            view = await self.view_for(room, member["userId"], member)
            await self.publisher.publish(
                event, {"room": view}, Audience.of_users([member["userId"]])
            )

    # -- queries --------------------------------------------------------------------------------

    async def list_public(self, q: str, skip: int, limit: int) -> tuple[list[Doc], int]:
        docs, total = await self.store.rooms.list_public(q, skip, limit)
        return [room_view(d) for d in docs], total

    async def mine(self, user_id: str, *, exclude: Collection[str] = ()) -> list[Doc]:
        """The user's rooms (but those in `exclude`), most recent activity first, each with its
        unread count."""
        members = {
            m["roomId"]: m
            for m in await self.store.members.of_user(user_id)
            if m["roomId"] not in exclude
        }
        rooms = await self.store.rooms.many(list(members))
        views = []
        for room in rooms:
            member = members[room["_id"]]
            read = member.get("lastReadSeq", 0)
            unread = 0
            if room.get("lastSeq", 0) > read:
                unread = await self.store.messages.count_unread(room["_id"], read, user_id)
            peer = await self._peer(room, user_id) if room["type"] == "direct" else None
            views.append(room_view(room, member, unread=unread, peer=peer))
        return views

    async def room_ids(self, user_id: str) -> list[str]:
        """The user's rooms; handshakes arriving together share one query."""
        return await self._room_ids.load(user_id) or []

    async def get(self, user_id: str, room_id: str) -> Doc:
        room, member = await self.access.readable(user_id, room_id)
        return await self.view_for(room, user_id, member)

    async def members(self, user_id: str, room_id: str) -> list[Doc]:
        await self.access.readable(user_id, room_id)
        members = await self.store.members.of_room(room_id)
        users = {u["_id"]: u for u in await self.store.users.many([m["userId"] for m in members])}
        views = await self.users.views(list(users.values()))
        by_id = {v["id"]: v for v in views}
        return [
            {
                "user": by_id[m["userId"]],
                "role": m["role"],
                "joinedAt": iso(m["joinedAt"]),
                "lastReadSeq": m.get("lastReadSeq", 0),
            }
            for m in members
            if m["userId"] in by_id
        ]

    # -- changes --------------------------------------------------------------------------------

    async def create(self, user_id: str, name: str, description: str, kind: str) -> Doc:
        room = _new_room(kind, name, description, user_id)
        if kind == "private":
            room["inviteCode"] = random_code()
        await self.store.rooms.insert(room)
        await self._add_member(room, user_id, "owner", announce=False)
        room["memberCount"] = 1
        await self._announce_room("room-created", room)
        return await self.view_for(room, user_id)

    async def _add_member(
        self, room: Doc, user_id: str, role: str, *, announce: bool = True
    ) -> Doc:
        member, created = await self.store.members.add(room["_id"], user_id, role)
        self.access.forget(room["_id"], user_id)
        if created:
            if room["type"] != "direct":  # a direct room is created with its count of 2
                await self.store.rooms.add_members(room["_id"], 1)
            await self.publisher.subscribe(user_id, room["_id"])
            if announce:
                user = await self.store.users.get(user_id)
                payload = {"roomId": room["_id"], "user": await self.users.view(user), "role": role}
                await self.publisher.publish("member-joined", payload, Audience.room(room["_id"]))
        return member

    async def join(self, user_id: str, room_id: str, invite_code: str | None = None) -> Doc:
        """Join a public room, or a private one with its current invite code."""
        room = await self.access.room(room_id)
        member = await self.access.membership(room_id, user_id)
        if member is None:
            if room["type"] == "direct" or (
                room["type"] == "private"
                and (not invite_code or invite_code != room.get("inviteCode"))
            ):
                raise NotFound("Room not found")
            member = await self._add_member(room, user_id, "member")
            room = await self.access.room(room_id)
        return await self.view_for(room, user_id, member)

    async def join_by_invite(self, user_id: str, invite_code: str) -> Doc:
        room = await self.store.rooms.by_invite_code(invite_code)
        if room is None or room["type"] != "private":
            raise NotFound("Invalid invite code")
        return await self.join(user_id, room["_id"], invite_code)

    async def update(self, user_id: str, room_id: str, fields: Doc) -> Doc:
        room, member = await self.access.writable(user_id, room_id)
        require_role(member, MANAGERS, "change it")
        if room["type"] == "direct":
            raise Forbidden("Direct rooms cannot be changed")
        changes = dict(fields)
        unset: list[str] = []
        if "name" in changes:
            changes["nameKey"] = changes["name"].lower()
        if changes.get("type") == "private" and room["type"] != "private":
            changes["inviteCode"] = random_code()
        elif changes.get("type") == "public" and room["type"] == "private":
            unset.append("inviteCode")
        changes["updatedAt"] = now_ms()
        updated = await self.store.rooms.update(room_id, changes, unset)
        if updated is None:
            raise NotFound("Room not found")
        await self._announce_room("room-updated", updated)
        return await self.view_for(updated, user_id, member)

    async def new_invite_code(self, user_id: str, room_id: str) -> str:
        room, member = await self.access.writable(user_id, room_id)
        require_role(member, MANAGERS, "make invite codes")
        if room["type"] != "private":
            raise ValidationFailed("Only private rooms have invite codes")
        code = random_code()
        await self.store.rooms.update(room_id, {"inviteCode": code, "updatedAt": now_ms()})
        return code

    async def set_role(self, user_id: str, room_id: str, target_id: str, role: str) -> Doc:
        _, member = await self.access.writable(user_id, room_id)
        require_role(member, ("owner",), "change roles")
        target = await self.store.members.get(room_id, target_id) if is_id(target_id) else None
        if target is None:
            raise NotFound("Not a member of this room")
        if target["role"] == "owner":
            raise Forbidden("The owner's role cannot be changed")
        updated = await self.store.members.set_role(room_id, target_id, role)
        self.access.forget(room_id, target_id)
        payload = {"roomId": room_id, "userId": target_id, "role": role}
        await self.publisher.publish("member-role-updated", payload, Audience.room(room_id))
        return {"userId": target_id, "role": updated["role"] if updated else role}

    async def kick(self, user_id: str, room_id: str, target_id: str) -> None:
        room, member = await self.access.writable(user_id, room_id)
        require_role(member, MANAGERS, "remove members")
        if room["type"] == "direct":
            raise Forbidden("Nobody can be removed from a direct room")
        target = await self.store.members.get(room_id, target_id) if is_id(target_id) else None
        if target is None:
            raise NotFound("Not a member of this room")
        if target_id == user_id:
            raise ValidationFailed("Use leave to leave a room")
        if target["role"] == "owner" or (target["role"] == "admin" and member["role"] != "owner"):
            raise Forbidden("Only the owner may remove an admin, and nobody the owner")
        await self._remove_member(room, target_id, "kicked")

    async def leave(self, user_id: str, room_id: str) -> None:
        room, member = await self.access.writable(user_id, room_id)
        if room["type"] == "direct":
            raise Forbidden("Direct rooms cannot be left")
        if member["role"] == "owner":
            heir = await self.store.members.successor(room_id, user_id)
            if heir is None:  # the last one out: the room goes
                await self._delete(room)
                return
            await self.store.members.set_role(room_id, heir["userId"], "owner")
            self.access.forget(room_id, heir["userId"])
            room = (
                await self.store.rooms.update(
                    room_id, {"ownerId": heir["userId"], "updatedAt": now_ms()}
                )
                or room
            )
        await self._remove_member(room, user_id, "left")
        if member["role"] == "owner":
            await self._announce_room("room-updated", room)

    async def _remove_member(self, room: Doc, user_id: str, reason: str) -> None:
        room_id = room["_id"]
        if not await self.store.members.remove(room_id, user_id):
            raise NotFound("Not a member of this room")
        self.access.forget(room_id, user_id)
        await self.store.rooms.add_members(room_id, -1)
        payload = {"roomId": room_id, "userId": user_id, "reason": reason}
        # The room hears it, and so do the user's own sockets, before they leave the channel.
        await self.publisher.publish(
            "member-left", payload, Audience(rooms=(room_id,), users=(user_id,))
        )
        await self.publisher.unsubscribe(user_id, room_id)

    async def delete(self, user_id: str, room_id: str) -> None:
        room, member = await self.access.writable(user_id, room_id)
        require_role(member, ("owner",), "delete it")
        if room["type"] == "direct":
            raise Forbidden("Direct rooms cannot be deleted")
        await self._delete(room)

    async def _delete(self, room: Doc) -> None:
        room_id = room["_id"]
        member_ids = await self.store.members.user_ids(room_id)
        await self.publisher.publish("room-deleted", {"roomId": room_id}, Audience.room(room_id))
        if self.files_cleaner is not None:
            await self.files_cleaner(room_id)
        await self.store.rooms.delete(room_id)
        await self.store.messages.delete_room(room_id)
        await self.store.reactions.delete_room(room_id)
        await self.store.members.delete_room(room_id)
        for uid in member_ids:
            self.access.forget(room_id, uid)
            await self.publisher.unsubscribe(uid, room_id)

    async def direct(self, user_id: str, other_id: str) -> Doc:
        """The one direct room of two users, made on first use; safe against a race."""
        if other_id == user_id:
            raise ValidationFailed("A direct room needs another user")
        other = await self.store.users.get(other_id)
        if other is None:
            raise NotFound("User not found")
        pair = sorted([user_id, other_id])
        key = ":".join(pair)
        room = await self.store.rooms.by_direct_key(key)
        if room is None:
            candidate = {
                **_new_room("direct", "", "", user_id),
                "directKey": key,
                "directUsers": pair,
                # Set now, not counted up as members are added: a request that loses the race
                # reads the room before the winner's additions and must still see 2.
                "memberCount": 2,
            }
            created = await self.store.rooms.insert(candidate)
            room = candidate if created else await self.store.rooms.by_direct_key(key)
            if room is None:
                raise NotFound("Room not found")
            # Both racers make sure of both memberships (adding is idempotent); one announces.
            for uid in pair:
                await self._add_member(room, uid, "member", announce=False)
            room = await self.access.room(room["_id"])
            if created:
                await self._announce_room("room-created", room)
        return await self.view_for(room, user_id)


def _new_room(kind: str, name: str, description: str, owner_id: str) -> Doc:
    now = now_ms()
    return {
        "_id": new_id(),
        "type": kind,
        "name": name,
        "nameKey": name.lower(),
        "description": description,
        "ownerId": owner_id,
        "memberCount": 0,
        "lastSeq": 0,
        "lastVer": 0,
        "lastMessage": None,
        "createdAt": now,
        "updatedAt": now,
        "lastActivityAt": now,
    }

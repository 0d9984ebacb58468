"""Rooms as each viewer sees them, and room-created / room-updated told to every member."""

from __future__ import annotations

from chat.domain import Member, Room
from chat.services.access import Access
from chat.services.events import Audience, Publisher
from chat.services.presenters.rooms import room_view
from chat.services.presenters.shapes import RoomWire, UserWire
from chat.services.presenters.users import deleted_user_view
from chat.services.users import UserService
from chat.store import Store


class RoomViews:
    def __init__(self, store: Store, access: Access, publisher: Publisher, users: UserService):
        self.store = store
        self.access = access
        self.publisher = publisher
        self.users = users

    async def view_for(
        self, room: Room, user_id: str, member: Member | None = None, *, unread: int | None = None
    ) -> RoomWire:
        """The room as `user_id` sees it (their membership is looked up unless given); a direct
        room shows the other user as its `peer`."""
        if member is None:
            member = await self.access.membership(room.id, user_id)
        peer = await self._peer(room, user_id) if room.type == "direct" else None
        return room_view(room, member, unread=unread, peer=peer)

    async def _peer(self, room: Room, user_id: str) -> UserWire | None:
        other = next((u for u in room.direct_users if u != user_id), None)
        if other is None:
            return None
        return await self.users.view_of(other) or deleted_user_view(other, room.created_at)

    async def announce(self, event: str, room: Room) -> None:
        """room-created / room-updated to each member, each seeing their own role and code."""
        for member in await self.store.members.of_room(room.id):
            view = await self.view_for(room, member.user_id, member)
            await self.publisher.publish(event, {"room": view}, Audience.of_users([member.user_id]))

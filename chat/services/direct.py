"""Direct rooms: one per pair of users, made on first use, with both as members."""

from __future__ import annotations

from chat.errors import NotFound, ValidationFailed
from chat.services.access import Access
from chat.services.blocks import check_direct
from chat.services.membership import Membership
from chat.services.presenters.shapes import RoomWire
from chat.services.room_views import RoomViews
from chat.store import Store
from chat.store.base import is_id


class DirectRooms:
    def __init__(self, store: Store, access: Access, views: RoomViews, membership: Membership):
        self.store = store
        self.access = access
        self.views = views
        self.membership = membership

    async def direct(self, user_id: str, other_id: str) -> RoomWire:
        """The one direct room of two users, made on first use; safe against a race. Refused
        between users one of whom blocks the other, and a new one by `allowDirectFrom`."""
        if other_id == user_id:
            raise ValidationFailed("A direct room needs another user")
        other = await self.store.users.get(other_id) if is_id(other_id) else None
        if other is None:
            raise NotFound("User not found")
        pair = (user_id, other_id)
        room = await self.store.rooms.direct_of(pair)
        await check_direct(self.store, user_id, other, new=room is None)
        if room is None:
            # Its count is set now, not counted up as members are added: a request that loses
            # the race reads the room before the winner's additions and must still see 2.
            created = await self.store.rooms.insert(
                "direct", "", "", user_id, member_count=2, direct_users=pair
            )
            room = created or await self.store.rooms.direct_of(pair)
            if room is None:
                raise NotFound("Room not found")
            # Both racers make sure of both memberships (adding is idempotent); one announces.
            for uid in sorted(pair):
                await self.membership.add(room, uid, "member", announce=False)
            room = await self.access.room(room.id)
            if created:
                await self.views.announce("room-created", room)
        return await self.views.view_for(room, user_id)

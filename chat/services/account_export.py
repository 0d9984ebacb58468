"""Your data as one JSON document (GET /api/users/me/export): your profile, your memberships and
every message you sent that is not deleted, in every room (rooms you left included).

Messages come in pages of PAGE from the store, so a transport can stream the document and hold
one page at a time; there is no upper limit on how many. Attachment URLs are signed afresh, as in
history, and expire like them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypedDict

from chat.domain import RoomType
from chat.services.accounts import Principal
from chat.services.file_urls import FileUrls
from chat.services.message_views import present
from chat.services.presenters.shapes import MessageWire, UserWire
from chat.services.presenters.time import iso
from chat.services.users import UserService
from chat.store import Store, now_ms

PAGE = 500


class MembershipExport(TypedDict):
    roomId: str
    name: str
    type: RoomType
    role: str
    joinedAt: str
    peerId: str | None  # a direct room's other user


class ExportHead(TypedDict):
    exportedAt: str
    profile: UserWire
    memberships: list[MembershipExport]


class AccountExport:
    def __init__(self, store: Store, users: UserService, urls: FileUrls):
        self.store = store
        self.users = users
        self.urls = urls

    async def head(self, me: Principal) -> ExportHead:
        """Everything but the messages: the profile (as you see it) and your rooms."""
        members = await self.store.members.of_user(me.user_id)
        rooms = {r.id: r for r in await self.store.rooms.many([m.room_id for m in members])}
        memberships: list[MembershipExport] = []
        for member in sorted(members, key=lambda m: m.joined_at):
            room = rooms.get(member.room_id)
            if room is None:
                continue
            peer = next((u for u in room.direct_users if u != me.user_id), None)
            memberships.append(
                {
                    "roomId": room.id,
                    "name": room.name,
                    "type": room.type,
                    "role": member.role,
                    "joinedAt": iso(member.joined_at),
                    "peerId": peer,
                }
            )
        return {
            "exportedAt": iso(now_ms()),
            "profile": await self.users.view(me.user, own=True),
            "memberships": memberships,
        }

    async def messages(self, user_id: str) -> AsyncIterator[list[MessageWire]]:
        """The messages the user sent, not deleted, a page at a time, by room then seq."""
        after: tuple[str, int] | None = None
        while True:
            page = await self.store.sent.page(user_id, after, PAGE, live_only=True)
            if page:
                yield await present(self.store, self.urls, page)
            if len(page) < PAGE:
                return
            after = (page[-1].room_id, page[-1].seq)


class ExportDocument(ExportHead):
    """The whole download: the head and every message (what the OpenAPI document shows)."""

    messages: list[MessageWire]

"""Reading messages: a room's history by seq, sync by last seen seq, and search."""

from __future__ import annotations

from typing import Any

from chat.errors import NotFound
from chat.services.access import Access
from chat.services.file_urls import FileUrls
from chat.services.message_views import present
from chat.services.presenters.shapes import MessageWire
from chat.store import Store

Doc = dict[str, Any]

SYNC_PAGE = 100


class HistoryService:
    def __init__(self, store: Store, access: Access, urls: FileUrls):
        self.store = store
        self.access = access
        self.urls = urls

    async def page(
        self, user_id: str, room_id: str, *, before: int | None, after: int | None, limit: int
    ) -> tuple[list[MessageWire], bool]:
        """Up to `limit` messages of the room ascending by seq (after `after`, or ending before
        `before` or at the newest), and whether more lie beyond."""
        await self.access.readable(user_id, room_id)
        messages, more = await self.store.messages.page(
            room_id, before=before, after=after, limit=limit
        )
        return await present(self.store, self.urls, messages), more

    async def sync(self, user_id: str, last_seen: dict[str, int]) -> list[Doc]:
        """For each room, what came after the last seq the client saw, oldest first."""
        result = []
        for room_id, seq in last_seen.items():
            try:
                messages, more = await self.page(
                    user_id, room_id, before=None, after=seq, limit=SYNC_PAGE
                )
            except NotFound as exc:
                result.append(
                    {"roomId": room_id, "messages": [], "hasMore": False, "error": exc.to_dict()}
                )
                continue
            result.append({"roomId": room_id, "messages": messages, "hasMore": more})
        return result

    async def search(
        self, user_id: str, text: str, room_id: str | None, limit: int
    ) -> list[MessageWire]:
        """Live messages containing `text` in the user's rooms (or one of them), newest first."""
        rooms = await self.store.members.room_ids(user_id)
        if room_id is not None:
            if room_id not in rooms:
                raise NotFound("Room not found")
            rooms = [room_id]
        return await present(
            self.store, self.urls, await self.store.messages.search(rooms, text, limit)
        )

"""Catch-up by change cursor: per room, every message created or changed after a `ver`."""

from __future__ import annotations

import asyncio
from typing import Any

from chat.domain import Message, Room
from chat.errors import NotFound, ValidationFailed
from chat.services.access import Access
from chat.services.history import SYNC_PAGE, HistoryService
from chat.services.message_views import present
from chat.services.presenters.shapes import ChangesPage, MessageWire
from chat.services.rooms import RoomService
from chat.store import Store

Doc = dict[str, Any]
# A sync value: a plain number (the last seq seen, the first form) or {"ver": N} (a cursor).
Cursor = int | dict[str, int]
Page = tuple[list[Message], bool]


def _missing(room_id: str, since: int) -> Doc:
    error = NotFound("Room not found").to_dict()
    return {"roomId": room_id, "messages": [], "ver": since, "hasMore": False, "error": error}


def _page(room_id: str, since: int, page: Page, views: dict[str, MessageWire]) -> Doc:
    messages, more = page
    return {
        "roomId": room_id,
        "messages": [views[m.id] for m in messages],
        "ver": messages[-1].ver if messages else since,
        "hasMore": more,
    }


class CatchUpService:
    def __init__(self, store: Store, access: Access, history: HistoryService, rooms: RoomService):
        self.store = store
        self.access = access
        self.history = history
        self.rooms = rooms

    async def changes(self, user_id: str, room_id: str, since: int, limit: int) -> ChangesPage:
        """One room's changes after `since`: `{messages, ver, hasMore}` (the REST twin)."""
        room, _ = await self.access.readable(user_id, room_id)
        _check_cursors({room_id: since}, {room_id: room})
        messages, more = await self.store.messages.changes(room_id, since, limit)
        return {
            "messages": await present(self.store, self.history.urls, messages),
            "ver": messages[-1].ver if messages else since,
            "hasMore": more,
        }

    async def sync(self, user_id: str, cursors: dict[str, Cursor]) -> Doc:
        """`{rooms, joined}`: each named room answered in the form it was asked in (a plain
        number: the messages after that seq; `{ver}`: the changes after that ver), in the order
        named, and the user's rooms that were not named, as Room objects.

        A few queries in all (rooms, memberships, one view lookup) plus one indexed range query
        per room. A cursor above its room's `lastVer` fails the whole call (VALIDATION_ERROR)
        before anything is read, naming every such room.
        """
        by_ver = {r: c["ver"] for r, c in cursors.items() if isinstance(c, dict)}
        by_seq = {r: c for r, c in cursors.items() if not isinstance(c, dict)}
        pages = await self._changes(user_id, by_ver)
        found = [m for messages, _ in pages.values() for m in messages]
        views = {v["id"]: v for v in await present(self.store, self.history.urls, found)}
        old_form = {e["roomId"]: e for e in await self.history.sync(user_id, by_seq)}
        answers = []
        for room_id in cursors:
            if room_id in old_form:
                answers.append(old_form[room_id])
            elif room_id in pages:
                answers.append(_page(room_id, by_ver[room_id], pages[room_id], views))
            else:
                answers.append(_missing(room_id, by_ver[room_id]))
        joined = await self.rooms.mine(user_id, exclude=cursors.keys())
        return {"rooms": answers, "joined": joined}

    async def _changes(self, user_id: str, by_ver: dict[str, int]) -> dict[str, Page]:
        """The changes after each cursor in the rooms the user may read (others are left out)."""
        found = await self.store.rooms.many(list(by_ver))
        allowed = {room.id: room for room in await self.access.readable_rooms(user_id, found)}
        readable = {r: allowed[r] for r in by_ver if r in allowed}
        _check_cursors({r: by_ver[r] for r in readable}, readable)
        pages = await asyncio.gather(
            *(self.store.messages.changes(r, by_ver[r], SYNC_PAGE) for r in readable)
        )
        return dict(zip(readable, pages, strict=True))


def _check_cursors(cursors: dict[str, int], rooms: dict[str, Room]) -> None:
    """A cursor can only be a ver the room has handed out: above `lastVer` it is from the future
    (another room's, or a database restored from a backup); the client should reload the room."""
    ahead = {
        room_id: f"Cursor {ver} is above the room's lastVer {rooms[room_id].last_ver}."
        for room_id, ver in cursors.items()
        if ver > rooms[room_id].last_ver
    }
    if ahead:
        raise ValidationFailed(
            "A cursor is ahead of its room: reload that room", {"fields": {"rooms": ahead}}
        )

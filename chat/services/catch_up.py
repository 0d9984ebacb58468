"""Catch-up by change cursor: per room, every message created or changed after a `ver`."""

from __future__ import annotations

import asyncio
from typing import Any

from chat.errors import NotFound, ValidationFailed
from chat.services.access import Access
from chat.services.messages import SYNC_PAGE, MessageService
from chat.services.rooms import RoomService
from chat.store import Store

Doc = dict[str, Any]
# A sync value: a plain number (the last seq seen, the first form) or {"ver": N} (a cursor).
Cursor = int | dict[str, int]


def _missing(room_id: str, since: int) -> Doc:
    error = NotFound("Room not found").to_dict()
    return {"roomId": room_id, "messages": [], "ver": since, "hasMore": False, "error": error}


class CatchUpService:
    def __init__(self, store: Store, access: Access, messages: MessageService, rooms: RoomService):
        self.store = store
        self.access = access
        self.messages = messages
        self.rooms = rooms

    async def changes(self, user_id: str, room_id: str, since: int, limit: int) -> Doc:
        """One room's changes after `since`: `{messages, ver, hasMore}` (the REST twin)."""
        room, _ = await self.access.readable(user_id, room_id)
        _check_cursors({room_id: since}, {room_id: room})
        docs, more = await self.store.messages.changes(room_id, since, limit)
        return {
            "messages": await self.messages.views(docs),
            "ver": docs[-1].get("ver", since) if docs else since,
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
        rooms = {d["_id"]: d for d in await self.store.rooms.many(list(by_ver))}
        members = set(await self.store.members.room_ids(user_id))
        readable = {
            r: rooms[r]
            for r in by_ver
            if r in rooms and (r in members or rooms[r]["type"] == "public")
        }
        _check_cursors({r: by_ver[r] for r in readable}, readable)
        pages = await asyncio.gather(
            *(self.store.messages.changes(r, by_ver[r], SYNC_PAGE) for r in readable)
        )
        page_of = dict(zip(readable, pages, strict=True))
        views = {v["id"]: v for v in await self.messages.views([d for p in pages for d in p[0]])}
        old_form = {e["roomId"]: e for e in await self.messages.sync(user_id, by_seq)}
        answers = []
        for room_id in cursors:
            if room_id in old_form:
                answers.append(old_form[room_id])
            elif room_id not in page_of:
                answers.append(_missing(room_id, by_ver[room_id]))
            else:
                docs, more = page_of[room_id]
                since = by_ver[room_id]
                answers.append({
                    "roomId": room_id,
                    "messages": [views[d["_id"]] for d in docs],
                    "ver": docs[-1].get("ver", since) if docs else since,
                    "hasMore": more,
                })  # fmt: skip
        joined = await self.rooms.mine(user_id, exclude=cursors.keys())
        return {"rooms": answers, "joined": joined}


def _check_cursors(cursors: dict[str, int], rooms: dict[str, Doc]) -> None:
    """A cursor can only be a ver the room has handed out: above `lastVer` it is from the future
    (another room's, or a database restored from a backup); the client should reload the room."""
    ahead = {
        room_id: f"Cursor {ver} is above the room's lastVer {rooms[room_id].get('lastVer', 0)}."
        for room_id, ver in cursors.items()
        if ver > rooms[room_id].get("lastVer", 0)
    }
    if ahead:
        raise ValidationFailed(
            "A cursor is ahead of its room: reload that room", {"fields": {"rooms": ahead}}
        )

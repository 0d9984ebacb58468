"""The `mutes` collection: members who may read a room but not write to it. `_id` is
`"{room}:{user}"`; `until` (epoch ms) is absent for a mute that lasts until it is lifted. Kept
apart from the membership, so leaving and joining again does not lift a mute.

A mute with an end also carries `expiresAt`, the same moment as a BSON date, for a TTL index:
the database deletes it within about a minute of its end (docs/MONGODB.md). Until then the
service compares `until` with its own clock, and every read here asks for mutes in force only.
"""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from chat.domain import Mute
from chat.store.base import Doc, ms_to_datetime, now_ms, pair_id, translate_errors


def _mute(doc: Doc) -> Mute:
    return Mute(
        room_id=doc["roomId"],
        user_id=doc["userId"],
        by=doc["by"],
        at=doc["at"],
        until=doc.get("until"),
    )


def _in_force(now: int) -> Doc:
    return {"$or": [{"until": {"$exists": False}}, {"until": {"$gt": now}}]}


@translate_errors
class MuteRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("roomId", ASCENDING)])
        await self.c.create_index([("expiresAt", ASCENDING)], expireAfterSeconds=0)
        # Mutes stored before `expiresAt` was written have no date for the TTL index to see.
        await self.c.delete_many({"until": {"$lte": now_ms()}, "expiresAt": {"$exists": False}})

    async def put(self, room_id: str, user_id: str, by: str, until: int | None) -> Mute:
        """Mute (again: the newest expiry replaces the old one)."""
        # `_id` in the document too: the embedded server's upsert ignores the filter's. Replaced,
        # not $set: the embedded server keeps a date only in a whole document (docs/MONGODB.md).
        key = pair_id(room_id, user_id)
        doc: Doc = {"_id": key, "roomId": room_id, "userId": user_id, "by": by, "at": now_ms()}
        if until is not None:
            doc["until"] = until
            doc["expiresAt"] = ms_to_datetime(until)
        await self.c.replace_one({"_id": key}, doc, upsert=True)
        return _mute(doc)

    async def remove(self, room_id: str, user_id: str) -> bool:
        return (await self.c.delete_one({"_id": pair_id(room_id, user_id)})).deleted_count == 1

    async def get(self, room_id: str, user_id: str, now: int) -> Mute | None:
        """The user's mute in this room if it is in force at `now`."""
        doc = await self.c.find_one({"_id": pair_id(room_id, user_id), **_in_force(now)})
        return _mute(doc) if doc else None

    async def in_force(self, room_id: str, now: int, limit: int) -> list[Mute]:
        """Up to `limit` of the room's mutes in force at `now` (ended ones wait for the TTL
        sweep, unread)."""
        cursor = self.c.find({"roomId": room_id, **_in_force(now)}).limit(limit)
        return [_mute(d) for d in await cursor.to_list()]

    async def delete_room(self, room_id: str) -> None:
        await self.c.delete_many({"roomId": room_id})

"""The `bans` collection: who is kept out of which room. `_id` is `"{room}:{user}"`, like a
membership's, so "is this user banned here" is one lookup by id."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from chat.domain import Ban
from chat.store.base import Doc, now_ms, pair_id, translate_errors


def _ban(doc: Doc) -> Ban:
    return Ban(
        room_id=doc["roomId"],
        user_id=doc["userId"],
        by=doc["by"],
        at=doc["at"],
        reason=doc.get("reason"),
    )


@translate_errors
class BanRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("roomId", ASCENDING), ("at", DESCENDING)])

    async def put(self, room_id: str, user_id: str, by: str, reason: str | None) -> Ban:
        """Ban (again: the newest reason and banner are kept)."""
        # `_id` in the document too: the embedded server's upsert ignores the filter's.
        key = pair_id(room_id, user_id)
        doc: Doc = {"_id": key, "roomId": room_id, "userId": user_id, "by": by, "at": now_ms()}
        if reason:
            doc["reason"] = reason
        await self.c.replace_one({"_id": key}, doc, upsert=True)
        return _ban(doc)

    async def remove(self, room_id: str, user_id: str) -> bool:
        return (await self.c.delete_one({"_id": pair_id(room_id, user_id)})).deleted_count == 1

    async def get(self, room_id: str, user_id: str) -> Ban | None:
        doc = await self.c.find_one({"_id": pair_id(room_id, user_id)})
        return _ban(doc) if doc else None

    async def rooms_of(self, user_id: str, room_ids: list[str]) -> set[str]:
        """Which of these rooms the user is banned from, in one query by id."""
        ids = [pair_id(room_id, user_id) for room_id in room_ids]
        docs = await self.c.find({"_id": {"$in": ids}}, {"roomId": 1}).to_list()
        return {d["roomId"] for d in docs}

    async def of_room(self, room_id: str, limit: int = 1000) -> list[Ban]:
        """The room's bans, most recent first."""
        cursor = self.c.find({"roomId": room_id}).sort("at", DESCENDING).limit(limit)
        return [_ban(d) for d in await cursor.to_list()]

    async def delete_room(self, room_id: str) -> None:
        await self.c.delete_many({"roomId": room_id})

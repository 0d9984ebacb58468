"""The `rooms` collection: public, private and direct rooms, with their seq and change counters."""

from __future__ import annotations

import re
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat.store.base import translate_errors

Doc = dict[str, Any]


@translate_errors
class RoomRepo:
    def __init__(self, collection: AsyncCollection):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("type", ASCENDING), ("nameKey", ASCENDING)])
        await self.c.create_index([("lastActivityAt", DESCENDING)])
        # Optional unique keys: partial, so MongoDB does not index the missing ones as null.
        for key in ("inviteCode", "directKey"):
            await self.c.create_index(
                [(key, ASCENDING)], unique=True, partialFilterExpression={key: {"$type": "string"}}
            )

    async def insert(self, doc: Doc) -> bool:
        """Insert; False if a unique key (a direct room's pair) already exists."""
        try:
            await self.c.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def get(self, room_id: str) -> Doc | None:
        return await self.c.find_one({"_id": room_id})

    async def by_invite_code(self, code: str) -> Doc | None:
        return await self.c.find_one({"inviteCode": code})

    async def by_direct_key(self, key: str) -> Doc | None:
        return await self.c.find_one({"directKey": key})

    async def many(self, room_ids: list[str]) -> list[Doc]:
        if not room_ids:
            return []
        query = {"_id": {"$in": room_ids}}
        return await self.c.find(query).sort("lastActivityAt", DESCENDING).to_list()

    async def member_counts(self, room_ids: list[str]) -> dict[str, int]:
        query = {"_id": {"$in": room_ids}}
        docs = await self.c.find(query, {"memberCount": 1}).to_list()
        return {d["_id"]: d.get("memberCount", 0) for d in docs}

    async def list_public(self, q: str, skip: int, limit: int) -> tuple[list[Doc], int]:
        query: Doc = {"type": "public"}
        if q:
            query["nameKey"] = {"$regex": re.escape(q.lower())}
        total = await self.c.count_documents(query)
        docs = await self.c.find(query).sort("nameKey", ASCENDING).skip(skip).limit(limit).to_list()
        return docs, total

    async def update(self, room_id: str, fields: Doc, unset: list[str] | None = None) -> Doc | None:
        change: Doc = {"$set": fields}
        if unset:
            change["$unset"] = {k: "" for k in unset}
        return await self.c.find_one_and_update(
            {"_id": room_id}, change, return_document=ReturnDocument.AFTER
        )

    async def reserve_seqs(
        self, room_id: str, count: int, newest: Doc, when: Any
    ) -> tuple[int, int] | None:
        """Take the room's next `count` seqs, and as many change numbers (vers), in one step, and
        record the newest message's summary with them, so the summary always describes message
        `lastSeq`. Returns the last seq and the last ver taken, or None when there is no such
        room. A room stored before vers existed counts from 0."""
        doc = await self.c.find_one_and_update(
            {"_id": room_id},
            {
                "$inc": {"lastSeq": count, "lastVer": count},
                "$set": {"lastMessage": newest, "lastActivityAt": when},
            },
            projection={"lastSeq": 1, "lastVer": 1},
            return_document=ReturnDocument.AFTER,
        )
        return (doc["lastSeq"], doc["lastVer"]) if doc else None

    async def take_ver(self, room_id: str) -> int | None:
        """The room's next change number (an edit, a delete, a reaction), or None if it is gone."""
        doc = await self.c.find_one_and_update(
            {"_id": room_id},
            {"$inc": {"lastVer": 1}},
            projection={"lastVer": 1},
            return_document=ReturnDocument.AFTER,
        )
        return doc["lastVer"] if doc else None

    async def give_back_seqs(self, room_id: str, last: int, count: int) -> bool:
        """Return the top `count` of the seqs just taken, if nobody has taken any since."""
        result = await self.c.update_one(
            {"_id": room_id, "lastSeq": last}, {"$inc": {"lastSeq": -count}}
        )
        return result.modified_count == 1

    async def refresh_last_message(self, room_id: str, seq: int, summary: Doc) -> None:
        """Rewrite the last-message summary after an edit or delete of that very message."""
        await self.c.update_one(
            {"_id": room_id, "lastSeq": seq}, {"$set": {"lastMessage": summary}}
        )

    async def add_members(self, room_id: str, delta: int) -> None:
        await self.c.update_one({"_id": room_id}, {"$inc": {"memberCount": delta}})

    async def delete(self, room_id: str) -> bool:
        return (await self.c.delete_one({"_id": room_id})).deleted_count == 1

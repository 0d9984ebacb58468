"""The `sessions` collection: one document per signed-in device; deleting it revokes the token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from chat.store.base import new_id, now_ms, translate_errors

Doc = dict[str, Any]


@translate_errors
class SessionRepo:
    def __init__(self, collection: AsyncCollection):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("userId", ASCENDING)])
        # MongoDB (and the embedded server) delete a session once `expiresAt` has passed.
        await self.c.create_index([("expiresAt", ASCENDING)], expireAfterSeconds=0)

    async def create(self, user_id: str, expires_at: datetime) -> Doc:
        doc = {"_id": new_id(), "userId": user_id, "createdAt": now_ms(), "expiresAt": expires_at}
        await self.c.insert_one(doc)
        return doc

    async def get(self, session_id: str) -> Doc | None:
        return await self.c.find_one({"_id": session_id})

    async def many(self, session_ids: list[str]) -> list[Doc]:
        return await self.c.find({"_id": {"$in": session_ids}}).to_list()

    async def extend(self, session_id: str, expires_at: datetime) -> bool:
        # Replaced, not $set: the embedded server stores a $set date as a string (docs/MONGODB.md),
        # and the TTL index needs a real date.
        doc = await self.get(session_id)
        if doc is None:
            return False
        result = await self.c.replace_one({"_id": session_id}, {**doc, "expiresAt": expires_at})
        return result.matched_count == 1

    async def delete(self, session_id: str) -> bool:
        return (await self.c.delete_one({"_id": session_id})).deleted_count == 1

    async def delete_others(self, user_id: str, keep_id: str) -> list[str]:
        """Delete every session of the user but `keep_id`; return the deleted ids."""
        query = {"userId": user_id, "_id": {"$ne": keep_id}}
        ids = [d["_id"] for d in await self.c.find(query, {"_id": 1}).to_list()]
        if ids:
            await self.c.delete_many({"_id": {"$in": ids}})
        return ids

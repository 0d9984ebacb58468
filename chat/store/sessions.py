"""The `sessions` collection: one document per signed-in device; deleting it revokes the token.

`expiresAt` is the one BSON date the store writes (the TTL index needs a real date); the domain
sees epoch milliseconds like every other time.
"""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from chat.domain import Session
from chat.store.base import (
    Doc,
    datetime_to_ms,
    ms_to_datetime,
    new_id,
    now_ms,
    translate_errors,
)


def _session(doc: Doc) -> Session:
    return Session(
        id=doc["_id"],
        user_id=doc["userId"],
        created_at=doc["createdAt"],
        expires_at=datetime_to_ms(doc["expiresAt"]),
    )


@translate_errors
class SessionRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("userId", ASCENDING)])
        # MongoDB (and the embedded server) delete a session once `expiresAt` has passed.
        await self.c.create_index([("expiresAt", ASCENDING)], expireAfterSeconds=0)

    async def create(self, user_id: str, expires_at: int) -> Session:
        doc = {
            "_id": new_id(),
            "userId": user_id,
            "createdAt": now_ms(),
            "expiresAt": ms_to_datetime(expires_at),
        }
        await self.c.insert_one(doc)
        return _session(doc)

    async def get(self, session_id: str) -> Session | None:
        doc = await self.c.find_one({"_id": session_id})
        return _session(doc) if doc else None

    async def many(self, session_ids: list[str]) -> list[Session]:
        return [_session(d) for d in await self.c.find({"_id": {"$in": session_ids}}).to_list()]

    async def extend(self, session_id: str, expires_at: int) -> bool:
        # Replaced, not $set: the embedded server stores a $set date as a string (docs/MONGODB.md),
        # and the TTL index needs a real date.
        doc = await self.c.find_one({"_id": session_id})
        if doc is None:
            return False
        result = await self.c.replace_one(
            {"_id": session_id}, {**doc, "expiresAt": ms_to_datetime(expires_at)}
        )
        return result.matched_count == 1

    async def delete(self, session_id: str) -> bool:
        return (await self.c.delete_one({"_id": session_id})).deleted_count == 1

    async def delete_all(self, user_id: str) -> list[str]:
        """Delete every session of the user; return the deleted ids."""
        ids = [d["_id"] for d in await self.c.find({"userId": user_id}, {"_id": 1}).to_list()]
        if ids:
            await self.c.delete_many({"_id": {"$in": ids}})
        return ids

    async def delete_others(self, user_id: str, keep_id: str) -> list[str]:
        """Delete every session of the user but `keep_id`; return the deleted ids."""
        query = {"userId": user_id, "_id": {"$ne": keep_id}}
        ids = [d["_id"] for d in await self.c.find(query, {"_id": 1}).to_list()]
        if ids:
            await self.c.delete_many({"_id": {"$in": ids}})
        return ids

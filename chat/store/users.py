"""The `users` collection: accounts, profiles and last-seen times."""

from __future__ import annotations

import re
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat.errors import Conflict
from chat.store.base import translate_errors

Doc = dict[str, Any]


@translate_errors
class UserRepo:
    def __init__(self, collection: AsyncCollection):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("email", ASCENDING)], unique=True)
        await self.c.create_index([("nameKey", ASCENDING)])

    async def insert(self, doc: Doc) -> Doc:
        try:
            await self.c.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict("Email already registered") from None
        return doc

    async def get(self, user_id: str) -> Doc | None:
        return await self.c.find_one({"_id": user_id})

    async def by_email(self, email: str) -> Doc | None:
        return await self.c.find_one({"email": email})

    async def many(self, user_ids: list[str]) -> list[Doc]:
        if not user_ids:
            return []
        return await self.c.find({"_id": {"$in": list(user_ids)}}).to_list()

    async def list_others(self, user_id: str, skip: int, limit: int) -> tuple[list[Doc], int]:
        query = {"_id": {"$ne": user_id}}
        total = await self.c.count_documents(query)
        docs = await self.c.find(query).sort("nameKey", ASCENDING).skip(skip).limit(limit).to_list()
        return docs, total

    async def search(self, q: str, exclude_id: str, limit: int) -> list[Doc]:
        """Names whose words start with `q` ("bo" finds Bob, "ob" does not); an email only when
        `q` is the whole address, so prefixes never spell out anyone's email."""
        # Escaped: user input never becomes a pattern.
        words = {"nameKey": {"$regex": r"(^|[\s\-_.'])" + re.escape(q.lower())}}
        match = {"$or": [words, {"email": q.lower()}]} if "@" in q else words
        query = {"_id": {"$ne": exclude_id}, **match}
        return await self.c.find(query).sort("nameKey", ASCENDING).limit(limit).to_list()

    async def update(self, user_id: str, fields: Doc) -> Doc | None:
        return await self.c.find_one_and_update(
            {"_id": user_id}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )

    async def set_last_seen(self, user_id: str, when: int) -> None:
        await self.c.update_one({"_id": user_id}, {"$set": {"lastSeen": when}})

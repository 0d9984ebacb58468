"""The `messages` collection: one document per message, ordered in its room by `seq` and `ver`."""

from __future__ import annotations

import re
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from chat.store.base import translate_errors

Doc = dict[str, Any]
DUPLICATE_KEY = 11000


@translate_errors
class MessageRepo:
    def __init__(self, collection: AsyncCollection):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("roomId", ASCENDING), ("seq", ASCENDING)], unique=True)
        # Idempotent sends: one message per (sender, clientId); messages without one are exempt.
        await self.c.create_index(
            [("senderId", ASCENDING), ("clientId", ASCENDING)],
            unique=True,
            partialFilterExpression={"clientId": {"$type": "string"}},
        )
        await self.c.create_index([("roomId", ASCENDING), ("type", ASCENDING), ("seq", ASCENDING)])
        # Catch-up: the messages of a room changed after a cursor, in change order.
        await self.c.create_index([("roomId", ASCENDING), ("ver", ASCENDING)])

    async def insert(self, doc: Doc) -> bool:
        """Insert; False if the sender already used this clientId."""
        try:
            await self.c.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    async def insert_many(self, docs: list[Doc]) -> list[int]:
        """Insert them all in one round trip; returns the indexes of those refused because their
        sender already used that clientId (the others are stored all the same)."""
        try:
            await self.c.insert_many(docs, ordered=False)
            return []
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if not errors or any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return sorted(e["index"] for e in errors)

    async def set_seq(self, message_id: str, seq: int) -> None:
        await self.c.update_one({"_id": message_id}, {"$set": {"seq": seq}})

    async def get(self, message_id: str) -> Doc | None:
        return await self.c.find_one({"_id": message_id})

    async def by_client_id(self, sender_id: str, client_id: str) -> Doc | None:
        return await self.c.find_one({"senderId": sender_id, "clientId": client_id})

    async def page(
        self,
        room_id: str,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = 50,
        types: list[str] | None = None,
        live_only: bool = False,
    ) -> tuple[list[Doc], bool]:
        """Up to `limit` messages ascending by seq, and whether more lie beyond the page.

        With `after` the page starts just after it (catching up, oldest first); otherwise it ends
        just before `before`, or at the newest message.
        """
        query: Doc = {"roomId": room_id}
        bounds: Doc = {}
        if before is not None:
            bounds["$lt"] = before
        if after is not None:
            bounds["$gt"] = after
        if bounds:
            query["seq"] = bounds
        if types:
            query["type"] = {"$in": types}
        if live_only:
            query["deletedAt"] = None  # tombstones are left out
        direction = ASCENDING if after is not None else DESCENDING
        docs = await self.c.find(query).sort("seq", direction).limit(limit + 1).to_list()
        has_more = len(docs) > limit
        docs = docs[:limit]
        if direction == DESCENDING:
            docs.reverse()
        return docs, has_more

    async def changes(self, room_id: str, since: int, limit: int) -> tuple[list[Doc], bool]:
        """Up to `limit` messages of the room whose latest change is after `since`, ascending by
        ver, and whether more lie beyond. Messages stored before vers existed have none: they
        count as ver 0, older than any cursor."""
        query = {"roomId": room_id, "ver": {"$gt": since}}
        docs = await self.c.find(query).sort("ver", ASCENDING).limit(limit + 1).to_list()
        return docs[:limit], len(docs) > limit

    async def raise_ver(self, message_id: str, ver: int) -> None:
        """Record a change numbered `ver`; a message's ver only ever grows."""
        await self.c.update_one({"_id": message_id}, {"$max": {"ver": ver}})

    async def update(self, message_id: str, fields: Doc) -> Doc | None:
        return await self.c.find_one_and_update(
            {"_id": message_id}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )

    async def count_unread(self, room_id: str, after_seq: int, reader_id: str) -> int:
        query = {
            "roomId": room_id,
            "seq": {"$gt": after_seq},
            "senderId": {"$ne": reader_id},
            "deletedAt": None,
        }
        return await self.c.count_documents(query)

    async def search(self, room_ids: list[str], text: str, limit: int) -> list[Doc]:
        if not room_ids:
            return []
        query = {
            "roomId": {"$in": room_ids},
            "deletedAt": None,
            # Escaped: the user's words are matched literally, never run as a pattern.
            "text": {"$regex": re.escape(text), "$options": "i"},
        }
        return await self.c.find(query).sort("createdAt", DESCENDING).limit(limit).to_list()

    async def attachment_totals(self, room_id: str) -> list[Doc]:
        """Per message type: how many messages carry files, and their bytes."""
        pipeline = [
            {"$match": {"roomId": room_id, "type": {"$in": ["image", "file"]}, "deletedAt": None}},
            {"$group": {"_id": "$type", "count": {"$sum": 1}, "bytes": {"$sum": "$fileBytes"}}},
        ]
        return await (await self.c.aggregate(pipeline)).to_list()

    async def with_attachments(self, room_id: str) -> list[Doc]:
        query = {"roomId": room_id, "type": {"$in": ["image", "file"]}}
        return await self.c.find(query, {"attachments": 1}).to_list()

    async def delete_room(self, room_id: str) -> None:
        await self.c.delete_many({"roomId": room_id})

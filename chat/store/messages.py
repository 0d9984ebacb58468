"""The `messages` collection: one document per message, ordered in its room by `seq` and `ver`.

Takes and returns domain values (chat/domain.py); the document shape is in message_docs.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from chat.domain import Attachment, Message
from chat.store.base import translate_errors
from chat.store.message_docs import attachment_of, message_doc, message_of

Doc = dict[str, Any]
DUPLICATE_KEY = 11000


@translate_errors
class MessageRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
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

    async def insert(self, message: Message) -> bool:
        """Insert; False if the sender already used this clientId."""
        try:
            await self.c.insert_one(message_doc(message))
            return True
        except DuplicateKeyError:
            return False

    async def insert_many(self, messages: Sequence[Message]) -> list[int]:
        """Insert them all in one round trip; returns the indexes of those refused because their
        sender already used that clientId (the others are stored all the same)."""
        try:
            await self.c.insert_many([message_doc(m) for m in messages], ordered=False)
            return []
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if not errors or any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return sorted(e["index"] for e in errors)

    async def set_seq(self, message_id: str, seq: int) -> None:
        await self.c.update_one({"_id": message_id}, {"$set": {"seq": seq}})

    async def get(self, message_id: str) -> Message | None:
        doc = await self.c.find_one({"_id": message_id})
        return message_of(doc) if doc is not None else None

    async def many(self, message_ids: list[str]) -> list[Message]:
        """These messages (those that exist), in no particular order."""
        if not message_ids:
            return []
        docs = await self.c.find({"_id": {"$in": message_ids}}).to_list()
        return [message_of(doc) for doc in docs]

    async def by_client_id(self, sender_id: str, client_id: str) -> Message | None:
        doc = await self.c.find_one({"senderId": sender_id, "clientId": client_id})
        return message_of(doc) if doc is not None else None

    async def page(
        self,
        room_id: str,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = 50,
        kinds: Sequence[str] | None = None,
        live_only: bool = False,
    ) -> tuple[list[Message], bool]:
        """Up to `limit` messages ascending by seq, and whether more lie beyond the page.

        With `after` the page starts just after it (catching up, oldest first); otherwise it ends
        just before `before`, or at the newest message. `kinds`: only messages of these types;
        `live_only`: deleted messages (tombstones) are left out.
        """
        query: Doc = {"roomId": room_id}
        bounds: Doc = {}
        if before is not None:
            bounds["$lt"] = before
        if after is not None:
            bounds["$gt"] = after
        if bounds:
            query["seq"] = bounds
        if kinds:
            query["type"] = {"$in": list(kinds)}
        if live_only:
            query["deletedAt"] = None
        direction = ASCENDING if after is not None else DESCENDING
        docs = await self.c.find(query).sort("seq", direction).limit(limit + 1).to_list()
        has_more = len(docs) > limit
        docs = docs[:limit]
        if direction == DESCENDING:
            docs.reverse()
        return [message_of(d) for d in docs], has_more

    async def changes(self, room_id: str, since: int, limit: int) -> tuple[list[Message], bool]:
        """Up to `limit` messages of the room whose latest change is after `since`, ascending by
        ver, and whether more lie beyond. Messages stored before vers existed have none: they
        count as ver 0, older than any cursor."""
        query = {"roomId": room_id, "ver": {"$gt": since}}
        docs = await self.c.find(query).sort("ver", ASCENDING).limit(limit + 1).to_list()
        return [message_of(d) for d in docs[:limit]], len(docs) > limit

    async def raise_ver(self, message_id: str, ver: int) -> None:
        """Record a change numbered `ver`; a message's ver only ever grows."""
        await self.c.update_one({"_id": message_id}, {"$max": {"ver": ver}})

    async def edit(self, message_id: str, text: str, at: int) -> Message | None:
        """New text, edited at `at`; the message as it is now, None if it is gone."""
        return await self._set(message_id, {"text": text, "editedAt": at})

    async def tombstone(self, message_id: str, at: int) -> Message | None:
        """Deleted at `at`: the text and attachments go, the message stays as a tombstone that
        keeps its seq (clients see the gap filled)."""
        doc = await self.c.find_one_and_update(
            {"_id": message_id},
            {
                "$set": {"text": "", "attachments": [], "fileBytes": 0, "deletedAt": at},
                "$unset": {"pinned": ""},  # a tombstone is no longer pinned
            },
            return_document=ReturnDocument.AFTER,
        )
        return message_of(doc) if doc is not None else None

    async def _set(self, message_id: str, fields: Doc) -> Message | None:
        doc = await self.c.find_one_and_update(
            {"_id": message_id}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )
        return message_of(doc) if doc is not None else None

    async def count_unread(self, room_id: str, after_seq: int, reader_id: str) -> int:
        query = {
            "roomId": room_id,
            "seq": {"$gt": after_seq},
            "senderId": {"$ne": reader_id},
            "deletedAt": None,
        }
        return await self.c.count_documents(query)

    async def search(self, room_ids: list[str], text: str, limit: int) -> list[Message]:
        """Live messages of these rooms containing `text` (case-insensitive), newest first."""
        if not room_ids:
            return []
        query = {
            "roomId": {"$in": room_ids},
            "deletedAt": None,
            # Escaped: the user's words are matched literally, never run as a pattern.
            "text": {"$regex": re.escape(text), "$options": "i"},
        }
        docs = await self.c.find(query).sort("createdAt", DESCENDING).limit(limit).to_list()
        return [message_of(d) for d in docs]

    async def attachment_totals(
        self, room_id: str, kinds: Sequence[str]
    ) -> dict[str, tuple[int, int]]:
        """Per message type among `kinds`: (live messages, their files' bytes); types without
        any are left out."""
        match = {"roomId": room_id, "type": {"$in": list(kinds)}, "deletedAt": None}
        pipeline: list[Doc] = [
            {"$match": match},
            {"$group": {"_id": "$type", "count": {"$sum": 1}, "bytes": {"$sum": "$fileBytes"}}},
        ]
        rows = await (await self.c.aggregate(pipeline)).to_list()
        return {row["_id"]: (row["count"], row["bytes"] or 0) for row in rows}

    async def attachments(self, room_id: str, kinds: Sequence[str]) -> list[Attachment]:
        """Every attachment of the room's messages of these types (to delete their files)."""
        query = {"roomId": room_id, "type": {"$in": list(kinds)}}
        docs = await self.c.find(query, {"attachments": 1}).to_list()
        return [attachment_of(a) for d in docs for a in d.get("attachments") or ()]

    async def delete_room(self, room_id: str) -> None:
        await self.c.delete_many({"roomId": room_id})

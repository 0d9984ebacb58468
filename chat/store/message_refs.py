"""Messages found by what they point at: a thread's replies and root, pins, mentions of a user.

Works on the `messages` collection (the document shape is in message_docs.py). A thread root
keeps `thread: {replyCount, lastReplyAt, participantIds}`, written with its replies (never
recounted on read); a pinned message keeps `pinned: {by, at}`.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from chat.domain import Message, Pin
from chat.store.base import translate_errors
from chat.store.message_docs import message_of

Doc = dict[str, Any]


@translate_errors
class MessageRefRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        # Partial: most messages are in no thread, mention nobody and are not pinned, and
        # should not pay an index entry for it on the send path.
        await self.c.create_index(
            [("threadId", ASCENDING), ("seq", ASCENDING)],
            partialFilterExpression={"threadId": {"$type": "string"}},
        )
        # Newest first by createdAt (`_id`, which would be the natural order, cannot be in a
        # compound index on the embedded server); ties are broken by `_id` in the query.
        await self.c.create_index(
            [("mentions", ASCENDING), ("createdAt", DESCENDING)],
            partialFilterExpression={"mentions": {"$exists": True}},
        )
        await self.c.create_index(
            [("roomId", ASCENDING), ("pinned.at", DESCENDING)],
            partialFilterExpression={"pinned": {"$exists": True}},
        )

    # -- threads --------------------------------------------------------------------------------

    async def add_replies(self, root_id: str, count: int, at: int, senders: list[str]) -> None:
        """Count `count` new replies into the root's summary, the latest at `at`, and add
        `senders` to its participants (the caller keeps that list bounded)."""
        await self.c.bulk_write(
            [
                # $addToSet on a missing array does nothing on the embedded server (MongoDB
                # creates it), so the first reply makes an empty summary to add to.
                UpdateOne(
                    {"_id": root_id, "thread": {"$exists": False}},
                    {"$set": {"thread": {"replyCount": 0, "lastReplyAt": 0, "participantIds": []}}},
                ),
                UpdateOne(
                    {"_id": root_id},
                    {
                        "$inc": {"thread.replyCount": count},
                        "$max": {"thread.lastReplyAt": at},
                        "$addToSet": {"thread.participantIds": {"$each": senders}},
                    },
                ),
            ],
            ordered=True,
        )

    async def remove_reply(self, root_id: str) -> None:
        """One reply fewer in the root's summary (a reply was deleted)."""
        await self.c.update_one(
            {"_id": root_id, "thread.replyCount": {"$gt": 0}}, {"$inc": {"thread.replyCount": -1}}
        )

    async def replies(self, root_id: str, after: int, limit: int) -> tuple[list[Message], bool]:
        """A thread's replies after seq `after`, ascending, and whether more follow."""
        query = {"threadId": root_id, "seq": {"$gt": after}}
        docs = await self.c.find(query).sort("seq", ASCENDING).limit(limit + 1).to_list()
        return [message_of(d) for d in docs[:limit]], len(docs) > limit

    # -- pins -----------------------------------------------------------------------------------

    async def pin(self, message_id: str, pin: Pin | None) -> Message | None:
        """Pin (or, with None, unpin) a live message; the message as it is now, None if it is
        gone or deleted."""
        change: Doc = (
            {"$set": {"pinned": {"by": pin.by, "at": pin.at}}}
            if pin
            else {"$unset": {"pinned": ""}}
        )
        doc = await self.c.find_one_and_update(
            {"_id": message_id, "deletedAt": None}, change, return_document=ReturnDocument.AFTER
        )
        return message_of(doc) if doc is not None else None

    async def pinned(self, room_id: str, limit: int) -> list[Message]:
        """The room's pinned messages, most recently pinned first."""
        query = {"roomId": room_id, "pinned": {"$exists": True}}
        docs = await self.c.find(query).sort("pinned.at", DESCENDING).limit(limit).to_list()
        return [message_of(d) for d in docs]

    async def count_pinned(self, room_id: str) -> int:
        return await self.c.count_documents({"roomId": room_id, "pinned": {"$exists": True}})

    # -- mentions -------------------------------------------------------------------------------

    async def mentioning(
        self, user_id: str, before: Message | None, limit: int
    ) -> tuple[list[Message], bool]:
        """Live messages that mention the user, newest first, older than the message `before`,
        and whether more follow."""
        # `$in`, not equality: the embedded server's indexed find misses `{"mentions": id}`.
        query: Doc = {"mentions": {"$in": [user_id]}, "deletedAt": None}
        if before is not None:
            at = before.created_at
            query["$or"] = [
                {"createdAt": {"$lt": at}},
                {"createdAt": at, "_id": {"$lt": before.id}},
            ]
        cursor = self.c.find(query).sort([("createdAt", DESCENDING), ("_id", DESCENDING)])
        docs = await cursor.limit(limit + 1).to_list()
        return [message_of(d) for d in docs[:limit]], len(docs) > limit

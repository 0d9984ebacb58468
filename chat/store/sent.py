"""Messages found by their sender: one account's messages, for its export and its deletion.

Works on the `messages` collection (the document shape is in message_docs.py). Pages go in
(roomId, seq) order, which the `(senderId, roomId, seq)` index serves and which is unique, so a
page starts right after the previous one's last message whatever is written meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from chat.domain import Message
from chat.store.base import translate_errors
from chat.store.message_docs import message_of

Doc = dict[str, Any]
ORDER = [("roomId", ASCENDING), ("seq", ASCENDING)]


@translate_errors
class SentMessageRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index(
            [("senderId", ASCENDING), ("roomId", ASCENDING), ("seq", ASCENDING)]
        )

    async def page(
        self,
        sender_id: str,
        after: tuple[str, int] | None,
        limit: int,
        *,
        kinds: Sequence[str] | None = None,
        live_only: bool = False,
    ) -> list[Message]:
        """Up to `limit` of the sender's messages after `(room_id, seq)` (from the start when
        None), in (room, seq) order; of these types only, and without tombstones, if asked."""
        query: Doc = {"senderId": sender_id}
        if after is not None:
            room_id, seq = after
            query["$or"] = [{"roomId": {"$gt": room_id}}, {"roomId": room_id, "seq": {"$gt": seq}}]
        if kinds is not None:
            query["type"] = {"$in": list(kinds)}
        if live_only:
            query["deletedAt"] = None  # absent: not deleted (message_docs.py)
        docs = await self.c.find(query).sort(ORDER).limit(limit).to_list()
        return [message_of(d) for d in docs]

    async def room_ids(self, sender_id: str) -> list[str]:
        """Every room the sender has a message in (members or not any more)."""
        return sorted(await self.c.distinct("roomId", {"senderId": sender_id}))

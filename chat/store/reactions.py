"""The `reactions` collection: one document per (message, user, emoji)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat.domain import Reaction
from chat.store.base import new_id, now_ms, translate_errors

Doc = dict[str, Any]


@translate_errors
class ReactionRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        keys = [("messageId", ASCENDING), ("userId", ASCENDING), ("emoji", ASCENDING)]
        await self.c.create_index(keys, unique=True)
        await self.c.create_index([("roomId", ASCENDING)])

    async def toggle(self, message_id: str, room_id: str, user_id: str, emoji: str) -> bool:
        """Add the reaction, or remove it if present; True if it is now there."""
        key = {"messageId": message_id, "userId": user_id, "emoji": emoji}
        if (await self.c.delete_one(key)).deleted_count:
            return False
        try:
            await self.c.insert_one({"_id": new_id(), **key, "roomId": room_id, "at": now_ms()})
            return True
        except DuplicateKeyError:  # a concurrent toggle added it first; it stays added
            return True

    async def for_messages(self, message_ids: list[str]) -> list[Reaction]:
        """The reactions to these messages, in the order they were made."""
        if not message_ids:
            return []
        query = {"messageId": {"$in": message_ids}}
        docs = await self.c.find(query).sort([("at", ASCENDING), ("_id", ASCENDING)]).to_list()
        return [
            Reaction(
                message_id=d["messageId"],
                room_id=d["roomId"],
                user_id=d["userId"],
                emoji=d["emoji"],
                at=d["at"],
            )
            for d in docs
        ]

    async def delete_message(self, message_id: str) -> None:
        await self.c.delete_many({"messageId": message_id})

    async def delete_room(self, room_id: str) -> None:
        await self.c.delete_many({"roomId": room_id})

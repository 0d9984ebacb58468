"""The `mutes` collection: members who may read a room but not write to it. `_id` is
`"{room}:{user}"`; `until` (epoch ms) is absent for a mute that lasts until it is lifted. Kept
apart from the membership, so leaving and joining again does not lift a mute. Expired mutes are
left in place (the service compares `until` with its clock) and replaced by the next one."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from chat.domain import Mute
from chat.store.base import Doc, now_ms, translate_errors


def _id(room_id: str, user_id: str) -> str:
    return f"{room_id}:{user_id}"


def _mute(doc: Doc) -> Mute:
    return Mute(
        room_id=doc["roomId"],
        user_id=doc["userId"],
        by=doc["by"],
        at=doc["at"],
        until=doc.get("until"),
    )


@translate_errors
class MuteRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("roomId", ASCENDING)])

    async def put(self, room_id: str, user_id: str, by: str, until: int | None) -> Mute:
        """Mute (again: the newest expiry replaces the old one)."""
        # `_id` in the document too: the embedded server's upsert ignores the filter's.
        key = _id(room_id, user_id)
        doc: Doc = {"_id": key, "roomId": room_id, "userId": user_id, "by": by, "at": now_ms()}
        if until is not None:
            doc["until"] = until
        await self.c.replace_one({"_id": key}, doc, upsert=True)
        return _mute(doc)

    async def remove(self, room_id: str, user_id: str) -> bool:
        return (await self.c.delete_one({"_id": _id(room_id, user_id)})).deleted_count == 1

    async def of_room(self, room_id: str) -> list[Mute]:
        """Every mute of the room, expired ones included."""
        return [_mute(d) for d in await self.c.find({"roomId": room_id}).to_list()]

    async def delete_room(self, room_id: str) -> None:
        await self.c.delete_many({"roomId": room_id})

"""The `members` collection: who is in which room, with a role and read/delivery pointers."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat.store.base import now_ms, translate_errors

Doc = dict[str, Any]


@translate_errors
class MemberRepo:
    def __init__(self, collection: AsyncCollection):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("roomId", ASCENDING), ("userId", ASCENDING)], unique=True)
        await self.c.create_index([("userId", ASCENDING)])
        await self.c.create_index([("roomId", ASCENDING), ("joinedAt", ASCENDING)])

    async def add(self, room_id: str, user_id: str, role: str) -> tuple[Doc, bool]:
        """Insert a membership; (doc, True) if new, (existing doc, False) if already a member."""
        doc = {
            "_id": f"{room_id}:{user_id}",
            "roomId": room_id,
            "userId": user_id,
            "role": role,
            "joinedAt": now_ms(),
            "lastReadSeq": 0,
            "lastDeliveredSeq": 0,
        }
        try:
            await self.c.insert_one(doc)
            return doc, True
        except DuplicateKeyError:
            existing = await self.get(room_id, user_id)
            if existing is None:  # removed in between: a fresh insert is the honest answer
                return await self.add(room_id, user_id, role)
            return existing, False

    async def get(self, room_id: str, user_id: str) -> Doc | None:
        return await self.c.find_one({"_id": f"{room_id}:{user_id}"})

    async def many(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Doc]:
        """The memberships among these (room, user) pairs that exist, in one query."""
        if not pairs:
            return {}
        ids = [f"{room_id}:{user_id}" for room_id, user_id in pairs]
        docs = await self.c.find({"_id": {"$in": ids}}).to_list()
        return {(d["roomId"], d["userId"]): d for d in docs}

    async def advance_many(self, pointer: str, seqs: dict[tuple[str, str], int]) -> None:
        """`advance` for many (room, user) pairs in one round trip."""
        if seqs:
            await self.c.bulk_write(
                [
                    UpdateOne({"_id": f"{room_id}:{user_id}"}, {"$max": {pointer: seq}})
                    for (room_id, user_id), seq in seqs.items()
                ],
                ordered=False,
            )

    async def pull_back(self, pointer: str, room_id: str, user_id: str, was: int, seq: int) -> None:
        """Move a pointer back to `seq`, if it is still `was` (what the caller set it to)."""
        await self.c.update_one(
            {"_id": f"{room_id}:{user_id}", pointer: was}, {"$set": {pointer: seq}}
        )

    async def of_user(self, user_id: str) -> list[Doc]:
        return await self.c.find({"userId": user_id}).to_list()

    async def room_ids(self, user_id: str) -> list[str]:
        return [
            d["roomId"] for d in await self.c.find({"userId": user_id}, {"roomId": 1}).to_list()
        ]

    async def room_ids_of(self, user_ids: list[str]) -> dict[str, list[str]]:
        """Each user's rooms, for many users in one query."""
        found: dict[str, list[str]] = {u: [] for u in user_ids}
        query = {"userId": {"$in": user_ids}}
        for d in await self.c.find(query, {"roomId": 1, "userId": 1}).to_list():
            found[d["userId"]].append(d["roomId"])
        return found

    async def user_ids_by_room(self, room_ids: list[str]) -> dict[str, list[str]]:
        """Each room's members, for many rooms in one query."""
        found: dict[str, list[str]] = {r: [] for r in room_ids}
        query = {"roomId": {"$in": room_ids}}
        for d in await self.c.find(query, {"roomId": 1, "userId": 1}).to_list():
            found[d["roomId"]].append(d["userId"])
        return found

    async def of_room(self, room_id: str) -> list[Doc]:
        return await self.c.find({"roomId": room_id}).sort("joinedAt", ASCENDING).to_list()

    async def user_ids(self, room_id: str) -> list[str]:
        return [
            d["userId"] for d in await self.c.find({"roomId": room_id}, {"userId": 1}).to_list()
        ]

    async def remove(self, room_id: str, user_id: str) -> bool:
        return (await self.c.delete_one({"_id": f"{room_id}:{user_id}"})).deleted_count == 1

    async def set_role(self, room_id: str, user_id: str, role: str) -> Doc | None:
        return await self.c.find_one_and_update(
            {"_id": f"{room_id}:{user_id}"},
            {"$set": {"role": role}},
            return_document=ReturnDocument.AFTER,
        )

    async def advance(self, room_id: str, user_id: str, pointer: str, seq: int) -> Doc | None:
        """Move `lastReadSeq` or `lastDeliveredSeq` forward to `seq`; never backwards."""
        return await self.c.find_one_and_update(
            {"_id": f"{room_id}:{user_id}"},
            {"$max": {pointer: seq}},
            return_document=ReturnDocument.AFTER,
        )

    async def successor(self, room_id: str, leaving_id: str) -> Doc | None:
        """The longest-standing admin, else the longest-standing member, other than `leaving_id`."""
        for role in ("admin", "member"):
            query = {"roomId": room_id, "role": role, "userId": {"$ne": leaving_id}}
            found = await self.c.find(query).sort("joinedAt", ASCENDING).limit(1).to_list()
            if found:
                return found[0]
        return None

    async def delete_room(self, room_id: str) -> None:
        await self.c.delete_many({"roomId": room_id})

"""The `blocks` collection: who blocked whom. One document per pair and direction, `_id`
`"{blocker}:{blocked}"`, so "does either block the other" is one lookup by ids."""

from __future__ import annotations

from collections.abc import Iterable

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat.store.base import Doc, now_ms, translate_errors


def _id(blocker_id: str, blocked_id: str) -> str:
    return f"{blocker_id}:{blocked_id}"


@translate_errors
class BlockRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("blockerId", ASCENDING), ("at", DESCENDING)])

    async def add(self, blocker_id: str, blocked_id: str) -> bool:
        """Block; False if the block was there already."""
        doc = {
            "_id": _id(blocker_id, blocked_id),
            "blockerId": blocker_id,
            "blockedId": blocked_id,
            "at": now_ms(),
        }
        try:
            await self.c.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def remove(self, blocker_id: str, blocked_id: str) -> bool:
        return (await self.c.delete_one({"_id": _id(blocker_id, blocked_id)})).deleted_count == 1

    async def blocked_by(self, blocker_id: str, limit: int = 1000) -> list[str]:
        """The users `blocker_id` blocked, most recent first."""
        cursor = self.c.find({"blockerId": blocker_id}, {"blockedId": 1})
        docs = await cursor.sort("at", DESCENDING).limit(limit).to_list()
        return [d["blockedId"] for d in docs]

    async def between(self, one: str, other: str) -> bool:
        """Whether either of the two blocks the other."""
        ids = [_id(one, other), _id(other, one)]
        return await self.c.find_one({"_id": {"$in": ids}}, {"_id": 1}) is not None

    async def among(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Those of these (blocker, blocked) pairs that are blocks, in one query."""
        ids = [_id(blocker, blocked) for blocker, blocked in set(pairs)]
        if not ids:
            return set()
        docs = await self.c.find({"_id": {"$in": ids}}, {"blockerId": 1, "blockedId": 1}).to_list()
        return {(d["blockerId"], d["blockedId"]) for d in docs}

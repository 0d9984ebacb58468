"""The `uploads` collection: files stored without a message, each deleted once it is old enough.

An upload without a room can never be attached to a message later, so every such file (and its
thumbnail) is recorded here when it is stored, and MediaService's sweep deletes what is older
than `UPLOAD_ORPHAN_HOURS`. `userId` (who uploaded it; absent on records made before it was kept)
lets a deleted account's uploads go at once.
"""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from chat.domain import StoredUpload
from chat.store.base import Doc, now_ms, translate_errors


def _upload(doc: Doc) -> StoredUpload:
    return StoredUpload(
        key=doc["_id"],
        backend=doc["backend"],
        resource_type=doc.get("resourceType") or "",
        created_at=doc["createdAt"],
    )


@translate_errors
class UploadRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("createdAt", ASCENDING)])
        await self.c.create_index([("userId", ASCENDING)])

    async def record(
        self,
        key: str,
        backend: str,
        resource_type: str,
        created_at: int | None = None,
        *,
        user_id: str | None = None,
    ) -> StoredUpload:
        """Remember a stored file that no message uses (a repeat of a key replaces it)."""
        doc: Doc = {
            "_id": key,
            "backend": backend,
            "resourceType": resource_type,
            "createdAt": now_ms() if created_at is None else created_at,
        }
        if user_id is not None:
            doc["userId"] = user_id
        await self.c.replace_one({"_id": key}, doc, upsert=True)
        return _upload(doc)

    async def older_than(self, when: int, limit: int = 500) -> list[StoredUpload]:
        """The oldest recorded files made before `when` (epoch ms), at most `limit` of them."""
        cursor = self.c.find({"createdAt": {"$lt": when}}).sort("createdAt", ASCENDING)
        return [_upload(d) for d in await cursor.limit(limit).to_list()]

    async def of_user(self, user_id: str) -> list[StoredUpload]:
        """Every recorded file the user uploaded."""
        return [_upload(d) for d in await self.c.find({"userId": user_id}).to_list()]

    async def forget(self, keys: list[str]) -> int:
        if not keys:
            return 0
        return (await self.c.delete_many({"_id": {"$in": keys}})).deleted_count

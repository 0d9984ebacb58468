"""The `push_subscriptions` collection: the Web Push subscriptions of each user's browsers.

One document per push endpoint (a unique index): a browser that subscribes again, or for another
account, replaces its entry rather than adding one. A user keeps at most `keep` of them; past it
the least recently subscribed go (a browser that was reset leaves its old endpoint behind).
"""

from __future__ import annotations

from dataclasses import dataclass

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat.store.base import Doc, new_id, now_ms, translate_errors


@dataclass(frozen=True, slots=True)
class PushSubscription:
    """Where a browser receives pushes, and its keys: base64url, as PushSubscription.toJSON()."""

    id: str
    user_id: str
    endpoint: str
    p256dh: str  # the browser's P-256 public key, an uncompressed point
    auth: str  # its 16-byte authentication secret
    created_at: int


def _subscription(doc: Doc) -> PushSubscription:
    return PushSubscription(
        id=doc["_id"],
        user_id=doc["userId"],
        endpoint=doc["endpoint"],
        p256dh=doc["p256dh"],
        auth=doc["auth"],
        created_at=doc["createdAt"],
    )


@translate_errors
class PushSubscriptionRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("endpoint", ASCENDING)], unique=True)
        await self.c.create_index([("userId", ASCENDING), ("updatedAt", DESCENDING)])

    async def save(
        self, user_id: str, endpoint: str, p256dh: str, auth: str, *, keep: int
    ) -> PushSubscription:
        """Record (or take over) the endpoint for the user; drop their oldest past `keep`."""
        doc = await self._put(user_id, endpoint, p256dh, auth)
        stale = (
            await self.c.find({"userId": user_id}, {"_id": 1})
            .sort([("updatedAt", DESCENDING), ("_id", DESCENDING)])
            .skip(keep)
            .to_list()
        )
        if stale:
            await self.c.delete_many({"_id": {"$in": [d["_id"] for d in stale]}})
        return _subscription(doc)

    async def _put(self, user_id: str, endpoint: str, p256dh: str, auth: str) -> Doc:
        # Insert, and on the endpoint's unique key update instead: the embedded server ignores
        # $setOnInsert in an upserting find_one_and_update (docs/MONGODB.md).
        now = now_ms()
        fields = {"userId": user_id, "p256dh": p256dh, "auth": auth, "updatedAt": now}
        for _ in range(3):  # each miss means the entry was deleted or created in between
            doc = {"_id": new_id(), "endpoint": endpoint, "createdAt": now, **fields}
            try:
                await self.c.insert_one(doc)
                return doc
            except DuplicateKeyError:
                found = await self.c.find_one_and_update(
                    {"endpoint": endpoint}, {"$set": fields}, return_document=ReturnDocument.AFTER
                )
                if found is not None:
                    return found
        raise RuntimeError("push subscription kept changing under a save")

    async def remove(self, user_id: str, endpoint: str) -> bool:
        """The user's own subscription at this endpoint, if they have it."""
        result = await self.c.delete_one({"endpoint": endpoint, "userId": user_id})
        return result.deleted_count == 1

    async def forget(self, subscription_id: str) -> bool:
        """A subscription the push service called gone (404 or 410)."""
        return (await self.c.delete_one({"_id": subscription_id})).deleted_count == 1

    async def of_users(self, user_ids: list[str]) -> list[PushSubscription]:
        if not user_ids:
            return []
        docs = await self.c.find({"userId": {"$in": user_ids}}).to_list()
        return [_subscription(d) for d in docs]

    async def of_user(self, user_id: str) -> list[PushSubscription]:
        """Newest first."""
        query = self.c.find({"userId": user_id})
        docs = await query.sort([("updatedAt", DESCENDING), ("_id", DESCENDING)]).to_list()
        return [_subscription(d) for d in docs]

"""The `push_subscriptions` collection: the Web Push subscriptions of each user's browsers.

One document per push endpoint (a unique index): a browser that subscribes again, or for another
account, replaces its entry rather than adding one. A user keeps at most `keep` of them; past it
the least recently subscribed go (a browser that was reset leaves its old endpoint behind).

Each remembers the session that made it (`sessionId`): ending a session drops its subscriptions
(services/sessions.py). Those saved before sessions were recorded have none; they go when every
session of their user ends.
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
    session_id: str | None = None  # the session that subscribed (none: saved before it was kept)


def _subscription(doc: Doc) -> PushSubscription:
    return PushSubscription(
        id=doc["_id"],
        user_id=doc["userId"],
        endpoint=doc["endpoint"],
        p256dh=doc["p256dh"],
        auth=doc["auth"],
        created_at=doc["createdAt"],
        session_id=doc.get("sessionId"),
    )


@translate_errors
class PushSubscriptionRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("endpoint", ASCENDING)], unique=True)
        await self.c.create_index([("userId", ASCENDING), ("updatedAt", DESCENDING)])

    async def save(
        self,
        user_id: str,
        endpoint: str,
        p256dh: str,
        auth: str,
        *,
        keep: int,
        session_id: str,
    ) -> PushSubscription:
        """Record (or take over) the endpoint for the user and session; drop their oldest past
        `keep`."""
        doc = await self._put(user_id, endpoint, p256dh, auth, session_id)
        stale = (
            await self.c.find({"userId": user_id}, {"_id": 1})
            .sort([("updatedAt", DESCENDING), ("_id", DESCENDING)])
            .skip(keep)
            .to_list()
        )
        if stale:
            await self.c.delete_many({"_id": {"$in": [d["_id"] for d in stale]}})
        return _subscription(doc)

    async def _put(
        self, user_id: str, endpoint: str, p256dh: str, auth: str, session_id: str
    ) -> Doc:
        # Insert, and on the endpoint's unique key update instead: the embedded server ignores
        # $setOnInsert in an upserting find_one_and_update (docs/MONGODB.md).
        now = now_ms()
        fields = {
            "userId": user_id, "sessionId": session_id, "p256dh": p256dh, "auth": auth,
            "updatedAt": now,
        }  # fmt: skip
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

    async def forget_sessions(
        self, user_id: str, session_ids: list[str], *, unbound: bool = False
    ) -> int:
        """The user's subscriptions made by these (ended) sessions, and with `unbound` those that
        name no session; how many went."""
        ended: Doc = {"sessionId": {"$in": session_ids}}
        if unbound:
            ended = {"$or": [ended, {"sessionId": {"$exists": False}}]}
        elif not session_ids:
            return 0
        return (await self.c.delete_many({"userId": user_id, **ended})).deleted_count

    async def forget_user(self, user_id: str) -> int:
        """Every subscription of the user (a deleted account)."""
        return (await self.c.delete_many({"userId": user_id})).deleted_count

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

"""The `account_tokens` collection: single-use tokens sent by email (password reset, email
verification), stored hashed.

A token is `<selector>.<verifier>`: the selector is the document's `_id` (found by an index), the
verifier's SHA-256 is `digest` (compared in constant time by the service). A token is spent by one
atomic `find_one_and_update` on `{_id, digest, state absent}`; spent and replaced tokens keep
their document (with `state`) until they expire, so a second use can be told apart from a bad
link. `expiresAt` is a BSON date written by insert only (the TTL index needs a real date; the
embedded server stores a `$set` date as a string, docs/MONGODB.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from chat.store.base import Doc, datetime_to_ms, ms_to_datetime, translate_errors

Purpose = Literal["reset", "verify"]
# Absent: usable. `used`: spent by its own use; `replaced`: a newer token (or a password reset)
# made it void.
TokenState = Literal["used", "replaced"]


@dataclass(frozen=True, slots=True)
class AccountToken:
    selector: str
    digest: str  # SHA-256 hex of the verifier
    user_id: str
    purpose: Purpose
    email: str  # the address it was sent to: a token dies with a change of email
    created_at: int
    expires_at: int
    state: TokenState | None = None


def _token(doc: Doc) -> AccountToken:
    return AccountToken(
        selector=doc["_id"],
        digest=doc["digest"],
        user_id=doc["userId"],
        purpose=doc["purpose"],
        email=doc["email"],
        created_at=doc["createdAt"],
        expires_at=datetime_to_ms(doc["expiresAt"]),
        state=doc.get("state"),
    )


@translate_errors
class TokenRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("userId", ASCENDING), ("purpose", ASCENDING)])
        # MongoDB (and the embedded server) delete a token once `expiresAt` has passed; expiry is
        # also checked on every use, so the sweep's timing does not matter.
        await self.c.create_index([("expiresAt", ASCENDING)], expireAfterSeconds=0)

    async def insert(self, token: AccountToken) -> None:
        await self.c.insert_one(
            {
                "_id": token.selector,
                "digest": token.digest,
                "userId": token.user_id,
                "purpose": token.purpose,
                "email": token.email,
                "createdAt": token.created_at,
                "expiresAt": ms_to_datetime(token.expires_at),
            }
        )

    async def get(self, selector: str) -> AccountToken | None:
        doc = await self.c.find_one({"_id": selector})
        return _token(doc) if doc else None

    async def newest(self, user_id: str, purpose: Purpose) -> str | None:
        """The selector of the account's newest token for this purpose, whatever its state (by
        `createdAt`, then selector): the only one that may be spent."""
        doc = await self.c.find_one(
            {"userId": user_id, "purpose": purpose},
            {"_id": 1},
            sort=[("createdAt", DESCENDING), ("_id", DESCENDING)],
        )
        return str(doc["_id"]) if doc else None

    async def spend(self, selector: str, digest: str, at: int) -> bool:
        """Mark the token used, atomically, if it is still usable; False if it was not."""
        doc = await self.c.find_one_and_update(
            {"_id": selector, "digest": digest, "state": {"$exists": False}},
            {"$set": {"state": "used", "usedAt": at}},
            return_document=ReturnDocument.AFTER,
        )
        return doc is not None

    async def replace_all(self, user_id: str, purpose: Purpose) -> int:
        """Void every usable token of the account for this purpose; how many there were."""
        result = await self.c.update_many(
            {"userId": user_id, "purpose": purpose, "state": {"$exists": False}},
            {"$set": {"state": "replaced"}},
        )
        return result.modified_count

    async def replace_older(
        self, user_id: str, purpose: Purpose, created_at: int, selector: str
    ) -> int:
        """Void the account's usable tokens for this purpose older than this one (by `createdAt`,
        then selector: the order `newest` goes by); how many there were."""
        older = [
            {"createdAt": {"$lt": created_at}},
            {"createdAt": created_at, "_id": {"$lt": selector}},
        ]
        result = await self.c.update_many(
            {"userId": user_id, "purpose": purpose, "state": {"$exists": False}, "$or": older},
            {"$set": {"state": "replaced"}},
        )
        return result.modified_count

    async def delete_of_user(self, user_id: str) -> None:
        await self.c.delete_many({"userId": user_id})

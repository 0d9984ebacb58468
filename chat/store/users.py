"""The `users` collection: accounts, profiles and last-seen times.

Optional fields: `emailVerified` (absent: false), `allowDirectFrom` (absent: everyone),
`disabledAt` (absent: enabled).
"""

from __future__ import annotations

import re

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat.domain import DirectFrom, User, UserStatus
from chat.store.base import Doc, Duplicate, new_id, now_ms, translate_errors


def _user(doc: Doc) -> User:
    return User(
        id=doc["_id"],
        name=doc["name"],
        email=doc["email"],
        password_hash=doc["passwordHash"],
        created_at=doc["createdAt"],
        avatar_url=doc.get("avatarUrl"),
        avatar_key=doc.get("avatarKey"),
        avatar_resource=doc.get("avatarResource"),
        bio=doc.get("bio", ""),
        status=doc.get("status", "online"),
        last_seen=doc.get("lastSeen"),
        # bool(): the embedded server stores a $set true as 1 (docs/MONGODB.md).
        email_verified=bool(doc.get("emailVerified", False)),
        allow_direct_from=doc.get("allowDirectFrom", "everyone"),
        disabled_at=doc.get("disabledAt"),
    )


@translate_errors
class UserRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("email", ASCENDING)], unique=True)
        await self.c.create_index([("nameKey", ASCENDING)])
        await self.c.create_index([("avatarKey", ASCENDING)])

    async def insert(self, name: str, email: str, password_hash: str) -> User:
        """A new account, online and seen now; Duplicate if the email is taken."""
        now = now_ms()
        doc = {
            "_id": new_id(),
            "name": name,
            "nameKey": name.lower(),
            "email": email,
            "passwordHash": password_hash,
            "avatarUrl": None,
            "bio": "",
            "status": "online",
            "lastSeen": now,
            "createdAt": now,
        }
        try:
            await self.c.insert_one(doc)
        except DuplicateKeyError:
            raise Duplicate("email") from None
        return _user(doc)

    async def get(self, user_id: str) -> User | None:
        doc = await self.c.find_one({"_id": user_id})
        return _user(doc) if doc else None

    async def by_email(self, email: str) -> User | None:
        doc = await self.c.find_one({"email": email})
        return _user(doc) if doc else None

    async def many(self, user_ids: list[str]) -> list[User]:
        if not user_ids:
            return []
        return [_user(d) for d in await self.c.find({"_id": {"$in": list(user_ids)}}).to_list()]

    async def list_others(self, user_id: str, skip: int, limit: int) -> tuple[list[User], int]:
        query = {"_id": {"$ne": user_id}}
        total = await self.c.count_documents(query)
        docs = await self.c.find(query).sort("nameKey", ASCENDING).skip(skip).limit(limit).to_list()
        return [_user(d) for d in docs], total

    async def search(self, q: str, exclude_id: str, limit: int) -> list[User]:
        """Names whose words start with `q` ("bo" finds Bob, "ob" does not); an email only when
        `q` is the whole address, so prefixes never spell out anyone's email."""
        # Escaped: user input never becomes a pattern.
        words = {"nameKey": {"$regex": r"(^|[\s\-_.'])" + re.escape(q.lower())}}
        match = {"$or": [words, {"email": q.lower()}]} if "@" in q else words
        query = {"_id": {"$ne": exclude_id}, **match}
        docs = await self.c.find(query).sort("nameKey", ASCENDING).limit(limit).to_list()
        return [_user(d) for d in docs]

    async def update(
        self,
        user_id: str,
        *,
        name: str | None = None,
        bio: str | None = None,
        status: UserStatus | None = None,
        password_hash: str | None = None,
        allow_direct_from: DirectFrom | None = None,
    ) -> User | None:
        """Change the fields given (None: unchanged); the user after the change, None if gone."""
        fields: Doc = {"bio": bio, "status": status, "passwordHash": password_hash}
        fields["allowDirectFrom"] = allow_direct_from
        if name is not None:
            fields |= {"name": name, "nameKey": name.lower()}
        return await self._set(user_id, {k: v for k, v in fields.items() if v is not None})

    async def set_avatar(
        self, user_id: str, url: str, key: str, resource: str | None
    ) -> User | None:
        fields = {"avatarUrl": url, "avatarKey": key, "avatarResource": resource}
        return await self._set(user_id, fields)

    async def avatar_in_use(self, key: str) -> bool:
        """Whether some user's avatar is the stored file `key`."""
        return await self.c.find_one({"avatarKey": key}, {"_id": 1}) is not None

    async def _set(self, user_id: str, fields: Doc) -> User | None:
        if not fields:
            return await self.get(user_id)
        doc = await self.c.find_one_and_update(
            {"_id": user_id}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )
        return _user(doc) if doc else None

    async def set_disabled(self, user_id: str, at: int | None) -> User | None:
        """Disable the account since `at`, or enable it (None); the user after, None if gone."""
        change: Doc = {"$set": {"disabledAt": at}} if at else {"$unset": {"disabledAt": ""}}
        doc = await self.c.find_one_and_update(
            {"_id": user_id}, change, return_document=ReturnDocument.AFTER
        )
        return _user(doc) if doc else None

    async def set_last_seen(self, user_id: str, when: int) -> None:
        await self.c.update_one({"_id": user_id}, {"$set": {"lastSeen": when}})

    async def set_email_verified(self, user_id: str, email: str) -> User | None:
        """Mark the email verified if it is still the account's; the user after, None if not."""
        doc = await self.c.find_one_and_update(
            {"_id": user_id, "email": email},
            {"$set": {"emailVerified": True}},
            return_document=ReturnDocument.AFTER,
        )
        return _user(doc) if doc else None

    async def delete(self, user_id: str) -> bool:
        """Remove the account's document: its email is free for a new account."""
        return (await self.c.delete_one({"_id": user_id})).deleted_count == 1

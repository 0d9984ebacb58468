"""The `rooms` collection: public, private and direct rooms, with their seq and change counters.

Stored beside the domain's fields: `nameKey` (the lower-cased name, for sorting and search) and,
for a direct room, `directKey` (its two users, sorted and joined: unique, so a pair has one room).
`slowModeSeconds` and `rulesVer` are absent until first set (read as 0).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat.domain import Room, RoomType
from chat.store.base import Doc, new_id, now_ms, translate_errors


def _room(doc: Doc) -> Room:
    return Room(
        id=doc["_id"],
        type=doc["type"],
        name=doc["name"],
        owner_id=doc.get("ownerId"),
        created_at=doc["createdAt"],
        updated_at=doc["updatedAt"],
        description=doc.get("description", ""),
        member_count=doc.get("memberCount", 0),
        last_seq=doc.get("lastSeq", 0),
        last_ver=doc.get("lastVer", 0),  # rooms stored before vers existed: 0
        last_message=doc.get("lastMessage"),
        last_activity_at=doc.get("lastActivityAt", 0),
        invite_code=doc.get("inviteCode"),
        direct_users=tuple(doc.get("directUsers", ())),
        slow_mode_seconds=doc.get("slowModeSeconds", 0),
        rules_ver=doc.get("rulesVer", 0),
    )


class RulesChanged(Exception):
    """The room's rules (rulesVer) changed since the send was checked: check it again."""


def _rules_ver(ver: int) -> object:
    return {"$in": [0, None]} if ver == 0 else ver  # absent counts as 0


def _direct_key(users: tuple[str, str]) -> str:
    return ":".join(sorted(users))


@translate_errors
class RoomRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("type", ASCENDING), ("nameKey", ASCENDING)])
        await self.c.create_index([("lastActivityAt", DESCENDING)])
        # Optional unique keys: partial, so MongoDB does not index the missing ones as null.
        for key in ("inviteCode", "directKey"):
            await self.c.create_index(
                [(key, ASCENDING)], unique=True, partialFilterExpression={key: {"$type": "string"}}
            )

    async def insert(
        self,
        kind: RoomType,
        name: str,
        description: str,
        owner_id: str,
        *,
        member_count: int = 0,
        invite_code: str | None = None,
        direct_users: tuple[str, str] | None = None,
    ) -> Room | None:
        """A new room; None if a unique key (a direct room's pair) already exists."""
        now = now_ms()
        doc: Doc = {
            "_id": new_id(),
            "type": kind,
            "name": name,
            "nameKey": name.lower(),
            "description": description,
            "ownerId": owner_id,
            "memberCount": member_count,
            "lastSeq": 0,
            "lastVer": 0,
            "lastMessage": None,
            "createdAt": now,
            "updatedAt": now,
            "lastActivityAt": now,
        }
        if invite_code is not None:
            doc["inviteCode"] = invite_code
        if direct_users is not None:
            doc["directKey"] = _direct_key(direct_users)
            doc["directUsers"] = sorted(direct_users)
        try:
            await self.c.insert_one(doc)
        except DuplicateKeyError:
            return None
        return _room(doc)

    async def get(self, room_id: str) -> Room | None:
        doc = await self.c.find_one({"_id": room_id})
        return _room(doc) if doc else None

    async def by_invite_code(self, code: str) -> Room | None:
        doc = await self.c.find_one({"inviteCode": code})
        return _room(doc) if doc else None

    async def direct_of(self, users: tuple[str, str]) -> Room | None:
        """The direct room of these two users, if they have one."""
        doc = await self.c.find_one({"directKey": _direct_key(users)})
        return _room(doc) if doc else None

    async def many(self, room_ids: list[str]) -> list[Room]:
        """These rooms, most recent activity first."""
        if not room_ids:
            return []
        query = {"_id": {"$in": room_ids}}
        docs = await self.c.find(query).sort("lastActivityAt", DESCENDING).to_list()
        return [_room(d) for d in docs]

    async def member_counts(self, room_ids: list[str]) -> dict[str, int]:
        query = {"_id": {"$in": room_ids}}
        docs = await self.c.find(query, {"memberCount": 1}).to_list()
        return {d["_id"]: d.get("memberCount", 0) for d in docs}

    async def list_public(self, q: str, skip: int, limit: int) -> tuple[list[Room], int]:
        query: Doc = {"type": "public"}
        if q:
            query["nameKey"] = {"$regex": re.escape(q.lower())}
        total = await self.c.count_documents(query)
        docs = await self.c.find(query).sort("nameKey", ASCENDING).skip(skip).limit(limit).to_list()
        return [_room(d) for d in docs], total

    async def update(
        self,
        room_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        kind: RoomType | None = None,
        owner_id: str | None = None,
        invite_code: str | None = None,
        drop_invite_code: bool = False,
        slow_mode_seconds: int | None = None,
    ) -> Room | None:
        """Change the fields given (None: unchanged) and `updatedAt`; the room after the change,
        or None if it is gone. A new slow mode takes a new `rulesVer`."""
        fields: Doc = {"description": description, "type": kind, "ownerId": owner_id}
        fields["slowModeSeconds"] = slow_mode_seconds
        if name is not None:
            fields |= {"name": name, "nameKey": name.lower()}
        fields["inviteCode"] = invite_code
        change: Doc = {"$set": {k: v for k, v in fields.items() if v is not None}}
        change["$set"]["updatedAt"] = now_ms()
        if drop_invite_code:
            change["$unset"] = {"inviteCode": ""}
        if slow_mode_seconds is not None:
            change["$inc"] = {"rulesVer": 1}
        doc = await self.c.find_one_and_update(
            {"_id": room_id}, change, return_document=ReturnDocument.AFTER
        )
        return _room(doc) if doc else None

    async def bump_rules(self, room_id: str) -> None:
        """A new `rulesVer`: sends checked against the room's old rules are checked again."""
        await self.c.update_one({"_id": room_id}, {"$inc": {"rulesVer": 1}})

    async def reserve_seqs(
        self,
        room_id: str,
        count: int,
        newest: Mapping[str, object],
        when: int,
        rules_ver: int | None = None,
    ) -> tuple[int, int] | None:
        """Take the room's next `count` seqs, and as many change numbers (vers), in one step, and
        record the newest message's summary with them, so the summary always describes message
        `lastSeq`. Returns the last seq and the last ver taken, or None when there is no such
        room. A room stored before vers existed counts from 0. With `rules_ver`, only while
        the room's rules are that version: else RulesChanged, and nothing is taken."""
        query: Doc = {"_id": room_id}
        if rules_ver is not None:
            query["rulesVer"] = _rules_ver(rules_ver)
        doc = await self.c.find_one_and_update(
            query,
            {
                "$inc": {"lastSeq": count, "lastVer": count},
                "$set": {"lastMessage": newest, "lastActivityAt": when},
            },
            projection={"lastSeq": 1, "lastVer": 1},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None and rules_ver is not None and await self._exists(room_id):
            raise RulesChanged(room_id)
        return (doc["lastSeq"], doc["lastVer"]) if doc else None

    async def _exists(self, room_id: str) -> bool:
        return await self.c.find_one({"_id": room_id}, {"_id": 1}) is not None

    async def take_ver(self, room_id: str) -> int | None:
        """The room's next change number (an edit, a delete, a reaction), or None if it is gone."""
        doc = await self.c.find_one_and_update(
            {"_id": room_id},
            {"$inc": {"lastVer": 1}},
            projection={"lastVer": 1},
            return_document=ReturnDocument.AFTER,
        )
        return doc["lastVer"] if doc else None

    async def give_back_seqs(self, room_id: str, last: int, count: int) -> bool:
        """Return the top `count` of the seqs just taken, if nobody has taken any since."""
        result = await self.c.update_one(
            {"_id": room_id, "lastSeq": last}, {"$inc": {"lastSeq": -count}}
        )
        return result.modified_count == 1

    async def refresh_last_message(
        self, room_id: str, seq: int, summary: Mapping[str, object]
    ) -> None:
        """Rewrite the last-message summary after an edit or delete of that very message."""
        await self.c.update_one(
            {"_id": room_id, "lastSeq": seq}, {"$set": {"lastMessage": summary}}
        )

    async def add_members(self, room_id: str, delta: int) -> None:
        await self.c.update_one({"_id": room_id}, {"$inc": {"memberCount": delta}})

    async def delete(self, room_id: str) -> bool:
        return (await self.c.delete_one({"_id": room_id})).deleted_count == 1

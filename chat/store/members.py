"""The `members` collection: who is in which room, with a role and read/delivery pointers.

A membership's `_id` is `"{room}:{user}"`: a lookup by pair is a lookup by id. The pointers are
stored as `lastReadSeq` and `lastDeliveredSeq`; the domain names them "read" and "delivered".
`notifications` (absent: the room type's default) is the member's level; `mentionSeqs` keeps
the seqs of the newest MENTION_SEQS_KEPT messages that mention the member.
"""

from __future__ import annotations

from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat.domain import MENTION_SEQS_KEPT, Member, NotifyLevel, Pointer, Role
from chat.store.base import Doc, now_ms, pair_id, translate_errors

_POINTER_FIELDS: dict[Pointer, str] = {"read": "lastReadSeq", "delivered": "lastDeliveredSeq"}


def _member(doc: Doc) -> Member:
    return Member(
        room_id=doc["roomId"],
        user_id=doc["userId"],
        role=doc["role"],
        joined_at=doc["joinedAt"],
        last_read_seq=doc.get("lastReadSeq", 0),
        last_delivered_seq=doc.get("lastDeliveredSeq", 0),
        notifications=doc.get("notifications"),
        mention_seqs=tuple(doc.get("mentionSeqs") or ()),
    )


@translate_errors
class MemberRepo:
    def __init__(self, collection: AsyncCollection[Doc]):
        self.c = collection

    async def ensure_indexes(self) -> None:
        await self.c.create_index([("roomId", ASCENDING), ("userId", ASCENDING)], unique=True)
        await self.c.create_index([("userId", ASCENDING)])
        await self.c.create_index([("roomId", ASCENDING), ("joinedAt", ASCENDING)])
        await self.c.create_index([("roomId", ASCENDING), ("notifications", ASCENDING)])

    async def add(self, room_id: str, user_id: str, role: Role) -> tuple[Member, bool]:
        """Insert a membership; (it, True) if new, (the existing one, False) if already a member."""
        doc = {
            "_id": pair_id(room_id, user_id),
            "roomId": room_id,
            "userId": user_id,
            "role": role,
            "joinedAt": now_ms(),
            "lastReadSeq": 0,
            "lastDeliveredSeq": 0,
        }
        try:
            await self.c.insert_one(doc)
            return _member(doc), True
        except DuplicateKeyError:
            existing = await self.get(room_id, user_id)
            if existing is None:  # removed in between: a fresh insert is the honest answer
                return await self.add(room_id, user_id, role)
            return existing, False

    async def get(self, room_id: str, user_id: str) -> Member | None:
        doc = await self.c.find_one({"_id": pair_id(room_id, user_id)})
        return _member(doc) if doc else None

    async def many(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Member]:
        """The memberships among these (room, user) pairs that exist, in one query."""
        if not pairs:
            return {}
        ids = [pair_id(room_id, user_id) for room_id, user_id in pairs]
        docs = await self.c.find({"_id": {"$in": ids}}).to_list()
        return {(d["roomId"], d["userId"]): _member(d) for d in docs}

    async def advance_many(self, pointer: Pointer, seqs: dict[tuple[str, str], int]) -> None:
        """`advance` for many (room, user) pairs in one round trip."""
        field = _POINTER_FIELDS[pointer]
        if seqs:
            await self.c.bulk_write(
                [
                    UpdateOne({"_id": pair_id(room_id, user_id)}, {"$max": {field: seq}})
                    for (room_id, user_id), seq in seqs.items()
                ],
                ordered=False,
            )

    async def pull_back(
        self, pointer: Pointer, room_id: str, user_id: str, was: int, seq: int
    ) -> None:
        """Move a pointer back to `seq`, if it is still `was` (what the caller set it to)."""
        field = _POINTER_FIELDS[pointer]
        await self.c.update_one(
            {"_id": pair_id(room_id, user_id), field: was}, {"$set": {field: seq}}
        )

    async def of_user(self, user_id: str) -> list[Member]:
        return [_member(d) for d in await self.c.find({"userId": user_id}).to_list()]

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

    async def of_room(self, room_id: str) -> list[Member]:
        """The room's members, longest-standing first."""
        docs = await self.c.find({"roomId": room_id}).sort("joinedAt", ASCENDING).to_list()
        return [_member(d) for d in docs]

    async def ids_with_roles(self, room_id: str, roles: tuple[Role, ...]) -> list[str]:
        """The room's members with one of these roles (its owner and admins, say)."""
        query = {"roomId": room_id, "role": {"$in": list(roles)}}
        return [d["userId"] for d in await self.c.find(query, {"userId": 1}).to_list()]

    async def user_ids(self, room_id: str) -> list[str]:
        return [
            d["userId"] for d in await self.c.find({"roomId": room_id}, {"userId": 1}).to_list()
        ]

    async def remove(self, room_id: str, user_id: str) -> bool:
        return (await self.c.delete_one({"_id": pair_id(room_id, user_id)})).deleted_count == 1

    async def set_role(self, room_id: str, user_id: str, role: Role) -> Member | None:
        doc = await self.c.find_one_and_update(
            {"_id": pair_id(room_id, user_id)},
            {"$set": {"role": role}},
            return_document=ReturnDocument.AFTER,
        )
        return _member(doc) if doc else None

    async def advance(
        self, room_id: str, user_id: str, pointer: Pointer, seq: int
    ) -> Member | None:
        """Move the read or delivered pointer forward to `seq`; never backwards."""
        doc = await self.c.find_one_and_update(
            {"_id": pair_id(room_id, user_id)},
            {"$max": {_POINTER_FIELDS[pointer]: seq}},
            return_document=ReturnDocument.AFTER,
        )
        return _member(doc) if doc else None

    async def longest_standing(self, room_id: str, role: Role, other_than: str) -> Member | None:
        """The member with this role who joined first, other than `other_than`."""
        query = {"roomId": room_id, "role": role, "userId": {"$ne": other_than}}
        found = await self.c.find(query).sort("joinedAt", ASCENDING).limit(1).to_list()
        return _member(found[0]) if found else None

    async def set_notifications(
        self, room_id: str, user_id: str, level: NotifyLevel
    ) -> Member | None:
        doc = await self.c.find_one_and_update(
            {"_id": pair_id(room_id, user_id)},
            {"$set": {"notifications": level}},
            return_document=ReturnDocument.AFTER,
        )
        return _member(doc) if doc else None

    async def note_mentions(self, mentions: dict[str, list[tuple[str, int]]]) -> None:
        """Record, per room, that these members were mentioned at these seqs (one round trip)."""
        updates = [
            UpdateOne(
                {"_id": pair_id(room_id, user_id)},
                {"$push": {"mentionSeqs": {"$each": [seq], "$slice": -MENTION_SEQS_KEPT}}},
            )
            for room_id, pairs in mentions.items()
            for user_id, seq in pairs
        ]
        if updates:
            await self.c.bulk_write(updates, ordered=False)

    async def forget_mention(self, room_id: str, user_ids: list[str], seq: int) -> None:
        """The message at `seq` no longer mentions these members (it was deleted)."""
        ids = [pair_id(room_id, u) for u in user_ids]
        await self.c.update_many({"_id": {"$in": ids}}, {"$pull": {"mentionSeqs": seq}})

    async def notify_candidates(
        self, room_id: str, mentioned: list[str], *, everyone: bool
    ) -> list[Member]:
        """The members a message may notify: those who chose `all`, those it mentions, or every
        member when `everyone` (a direct room). The caller applies the levels."""
        if everyone:
            query: Doc = {"roomId": room_id}
        else:
            query = {
                "roomId": room_id,
                "$or": [{"notifications": "all"}, {"userId": {"$in": mentioned}}],
            }
        return [_member(d) for d in await self.c.find(query).to_list()]

    async def delete_room(self, room_id: str) -> None:
        await self.c.delete_many({"roomId": room_id})

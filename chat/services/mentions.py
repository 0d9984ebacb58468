"""Mentions: who a message may mention, the unread-mention counts, and "messages that mention me".

A message's `mentions` are user ids of the room's members (at most MAX_MENTIONS), checked when it
is sent. Each mentioned member's membership keeps the seqs of their newest mentions, so a room's
`mentionCount` is read with the membership, and falls as the read pointer passes them.
"""

from __future__ import annotations

from chat.domain import Message
from chat.errors import ValidationFailed
from chat.services.access import Access
from chat.services.file_urls import FileUrls
from chat.services.message_views import present
from chat.services.presenters.shapes import MessagePage
from chat.store import Store
from chat.store.base import is_id

MAX_MENTIONS = 50
# A page is topped up from further back when rooms the user may not read take some of it out.
MAX_ROUNDS = 5


class MentionService:
    def __init__(self, store: Store, access: Access, urls: FileUrls):
        self.store = store
        self.access = access
        self.urls = urls

    async def check(self, room_id: str, user_ids: list[str]) -> list[str]:
        """The mentions, once each in the order given, if every one is a member of the room."""
        mentions = list(dict.fromkeys(user_ids))
        if len(mentions) > MAX_MENTIONS:
            raise ValidationFailed(f"At most {MAX_MENTIONS} mentions")
        if not mentions:
            return []
        known = await self.store.members.many([(room_id, u) for u in mentions if is_id(u)])
        strangers = [u for u in mentions if (room_id, u) not in known]
        if strangers:
            raise ValidationFailed(
                "Only members of the room can be mentioned", {"mentions": strangers}
            )
        return mentions

    async def stored(self, messages: list[Message]) -> None:
        """Record the stored messages' mentions on the mentioned memberships. Left out: a
        sender's mention of themselves (sending marks the room read anyway), and a mention of
        someone who blocks the sender (a blocked user's mentions tell you nothing)."""
        pairs = {(u, m.sender_id) for m in messages for u in m.mentions if u != m.sender_id}
        blocked = await self.store.blocks.among(pairs) if pairs else set()
        seqs: dict[str, list[tuple[str, int]]] = {}
        for msg in messages:
            for user_id in msg.mentions:
                if user_id != msg.sender_id and (user_id, msg.sender_id) not in blocked:
                    seqs.setdefault(msg.room_id, []).append((user_id, msg.seq))
        await self.store.members.note_mentions(seqs)

    async def of_user(self, user_id: str, before: str | None, limit: int) -> MessagePage:
        """Live messages that mention the user in rooms they can read, newest first."""
        found: list[Message] = []
        readable: dict[str, bool] = {}
        more = True
        cursor = await self._cursor(before) if before is not None else None
        for _ in range(MAX_ROUNDS):
            page, more = await self.store.message_refs.mentioning(user_id, cursor, limit)
            for msg in page:
                if await self._can_read(user_id, msg.room_id, readable):
                    found.append(msg)
            if not page or len(found) >= limit or not more:
                break
            cursor = page[-1]
        more = more or len(found) > limit
        return {"messages": await present(self.store, self.urls, found[:limit]), "hasMore": more}

    async def _cursor(self, before: str) -> Message:
        """Where a page ends: the message `before`, or, if it is gone (its room deleted between
        two pages), the time its id was made (an ObjectId starts with its second)."""
        found = await self.store.messages.get(before)
        if found is not None:
            return found
        made = (int(before[:8], 16) + 1) * 1000 - 1
        return Message(id=before, room_id="", sender_id="", type="text", text="", created_at=made)

    async def _can_read(self, user_id: str, room_id: str, seen: dict[str, bool]) -> bool:
        if room_id not in seen:
            seen[room_id] = await self.access.can_read(user_id, room_id)
        return seen[room_id]

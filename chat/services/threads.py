"""Threads: a reply names its root (one level deep); the root's summary is kept with the writes.

A reply is an ordinary message of the room (a seq, a `new-message`) whose `threadId` is a root
message of the same room. The root's `thread` (reply count, last reply, participants) is updated
by the group commit that stores the replies, right after it acks and announces them
(services/message_links.py), takes a ver, and is announced as `message-updated` after them.
"""

from __future__ import annotations

import logging

from chat.domain import Message
from chat.errors import NotFound, ValidationFailed
from chat.services.access import Access
from chat.services.changes import stamp
from chat.services.file_urls import FileUrls
from chat.services.message_views import present, present_one
from chat.services.presenters.shapes import MessageWire, ThreadPage
from chat.store import Store
from chat.store.base import is_id

log = logging.getLogger("chat.messages")

# A root names its first repliers, up to this many: it travels with every view of the root, so it
# must not grow with a busy thread (two nodes adding at once may pass it by a few).
MAX_PARTICIPANTS = 20


class ThreadService:
    def __init__(self, store: Store, access: Access, urls: FileUrls):
        self.store = store
        self.access = access
        self.urls = urls

    async def check_root(self, room_id: str, thread_id: str) -> None:
        """Refuse a reply whose root is not a message of this room, or is itself a reply."""
        root = await self.store.messages.get(thread_id) if is_id(thread_id) else None
        if root is None or root.room_id != room_id:
            raise ValidationFailed("threadId must be a message in this room")
        if root.thread_id is not None:
            raise ValidationFailed("threadId must be a thread's first message, not a reply")

    async def replies_stored(self, replies: list[Message]) -> list[MessageWire]:
        """Count stored replies into their roots' summaries (each root takes a ver) and return
        the roots' views, for the group commit to announce after the replies."""
        roots: list[MessageWire] = []
        by_root: dict[str, list[Message]] = {}
        for reply in replies:
            if reply.thread_id is not None:
                by_root.setdefault(reply.thread_id, []).append(reply)
        for root_id, sent in by_root.items():
            try:  # one root's trouble (the database, a deleted room) leaves the others
                root = await self._count_in(root_id, sent)
            except Exception:
                log.exception("thread %s: %d replies not counted in its root", root_id, len(sent))
                continue
            if root is not None:
                roots.append(root)
        return roots

    async def _count_in(self, root_id: str, sent: list[Message]) -> MessageWire | None:
        before = await self.store.messages.get(root_id)
        if before is None:
            return None
        known = set(before.thread.participant_ids) if before.thread else set()
        room_left = max(0, MAX_PARTICIPANTS - len(known))
        senders = [s for s in dict.fromkeys(m.sender_id for m in sent) if s not in known]
        at = max(m.created_at for m in sent)
        await self.store.message_refs.add_replies(root_id, len(sent), at, senders[:room_left])
        root = await self.store.messages.get(root_id)
        if root is None:
            return None
        await stamp(self.store, root)
        return await present_one(self.store, self.urls, root)

    async def reply_deleted(self, root_id: str) -> MessageWire | None:
        """Count a deleted reply out of its root's summary; the root's view to announce."""
        await self.store.message_refs.remove_reply(root_id)
        root = await self.store.messages.get(root_id)
        if root is None:
            return None
        await stamp(self.store, root)
        return await present_one(self.store, self.urls, root)

    async def page(self, user_id: str, message_id: str, after: int, limit: int) -> ThreadPage:
        """A thread's root and its replies after seq `after`, ascending, for a reader of the room."""
        root = await self.store.messages.get(message_id) if is_id(message_id) else None
        if root is None:
            raise NotFound("Message not found")
        await self.access.readable(user_id, root.room_id)
        if root.thread_id is not None:  # a reply: show its whole thread
            return await self.page(user_id, root.thread_id, after, limit)
        replies, more = await self.store.message_refs.replies(root.id, after, limit)
        views = await present(self.store, self.urls, [root, *replies])
        return {"root": views[0], "messages": views[1:], "hasMore": more}

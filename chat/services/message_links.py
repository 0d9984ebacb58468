"""What a stored message changes besides itself: the members it mentions, its thread's root.

The group commit calls `stored` before it acks and announces a batch (one round trip when any
message mentions someone: the counts are right once the sender has the ack), and `announced`
after (the roots' summaries, each taking a ver and announced as `message-updated` after the
replies, so a thread's bookkeeping never holds up the acks of a batch). Neither may fail the
batch: its messages are stored, so they are acked and announced whatever happens here; a root
left behind is corrected by its thread's next reply.
"""

from __future__ import annotations

import logging

from chat.domain import Message
from chat.services.mentions import MentionService
from chat.services.presenters.shapes import MessageWire
from chat.services.threads import ThreadService

log = logging.getLogger("chat.messages")


class MessageLinks:
    def __init__(self, mentions: MentionService, threads: ThreadService) -> None:
        self.mentions = mentions
        self.threads = threads

    async def stored(self, messages: list[Message]) -> None:
        if not any(m.mentions for m in messages):
            return
        try:
            await self.mentions.stored(messages)
        except Exception:
            log.exception("mention counts of %d stored messages not recorded", len(messages))

    async def announced(self, messages: list[Message]) -> list[MessageWire]:
        """The changed thread roots' views, to announce."""
        if not any(m.thread_id for m in messages):
            return []
        return await self.threads.replies_stored(messages)

"""Messages: send (ordered, idempotent, acked after the write), edit, delete, react.

Reading (history, sync, search) is in services/history.py, read and delivery receipts in
services/receipts.py, the batched write behind `send` in services/group_commit.py.
"""

from __future__ import annotations

from chat.domain import MANAGERS, Attachment, Message, MessageType, User
from chat.errors import Forbidden, NotFound, RateLimited, ValidationFailed
from chat.kit.ttl_cache import TtlCache
from chat.ratelimit import RateLimiter
from chat.services.access import Access
from chat.services.attachment_files import AttachmentFiles
from chat.services.changes import stamp
from chat.services.events import Audience, NoNotifier, Notifier, Publisher
from chat.services.file_urls import FileUrls
from chat.services.group_commit import GroupCommit
from chat.services.mentions import MentionService
from chat.services.message_links import MessageLinks
from chat.services.message_views import present_one
from chat.services.presenters.messages import last_message_summary, reactions_view
from chat.services.presenters.shapes import MessageWire, ReactionWire
from chat.services.room_rules import SendRules
from chat.services.threads import ThreadService
from chat.services.typing import TypingService
from chat.store import Store, new_id, now_ms
from chat.store.base import is_id

# A renamed user's next messages may show the old name for this long.
SENDER_CACHE_SECONDS = 10


class MessageService:
    def __init__(
        self,
        store: Store,
        access: Access,
        publisher: Publisher,
        limiter: RateLimiter,
        typing: TypingService,
        files: AttachmentFiles,
        urls: FileUrls,
        mentions: MentionService,
        threads: ThreadService,
        rules: SendRules,
        notifier: Notifier | None = None,
    ):
        self.rules = rules  # mutes, blocks, slow mode (services/room_rules.py)
        self.mentions = mentions
        self.threads = threads
        self.store = store
        self.urls = urls
        self.access = access
        self.publisher = publisher
        self.limiter = limiter
        self.typing = typing
        self.files = files
        self.commits = GroupCommit(
            store, publisher, access.writer, urls, notifier or NoNotifier(),
            MessageLinks(mentions, threads),
        )  # fmt: skip
        self._senders: TtlCache[str, User | None] = TtlCache(SENDER_CACHE_SECONDS)

    # -- sending --------------------------------------------------------------------------------

    async def send(
        self,
        user_id: str,
        room_id: str,
        text: str,
        *,
        client_id: str | None = None,
        reply_to: str | None = None,
        mentions: list[str] | None = None,
        thread_id: str | None = None,
        kind: MessageType = "text",
        attachments: list[Attachment] | None = None,
        member_known: bool = False,
    ) -> tuple[MessageWire, bool]:
        """Store, then broadcast, a message. Returns (message view, created); a repeated clientId
        returns the first message with created False and broadcasts nothing.

        The write is group-committed (services/group_commit.py): membership, seq, insert and
        read pointer are one operation each per batch, not per message. Idempotency rests on the
        unique index on (senderId, clientId), so the common case pays no lookup for it.
        `member_known`: the caller knows the sender is a member right now (a socket subscribed to
        the room's channel, which joins, leaves and kicks keep in step on every node), so the
        batch skips the membership query for it.
        """
        if not is_id(room_id):
            raise NotFound("Room not found")
        resent = await self._within_limits(user_id, room_id, client_id)
        if resent is not None:
            return await present_one(self.store, self.urls, resent), False
        named = await self._check_named(
            user_id, room_id, reply_to, thread_id, mentions or [], member_known
        )
        message = Message(
            id=new_id(), room_id=room_id, sender_id=user_id, type=kind, text=text,
            attachments=attachments or [], reply_to=reply_to, client_id=client_id,
            mentions=named, thread_id=thread_id,
        )  # fmt: skip
        stored, view = await self.rules.submit(
            self.commits.submit, message, await self._sender(user_id), member_known=member_known
        )
        if view is None:
            return await present_one(self.store, self.urls, stored), False
        await self.typing.stop(user_id, room_id, quiet_if_idle=True)
        return view, True

    async def _check_named(
        self,
        user_id: str,
        room_id: str,
        reply_to: str | None,
        thread_id: str | None,
        mentions: list[str],
        member_known: bool,
    ) -> list[str]:
        """Check the message and users a send names; returns the mentions, once each."""
        if (reply_to or thread_id or mentions) and not member_known:
            # Membership first: checks of the message ids and user ids named must not tell an
            # outsider what a room holds or who is in it.
            await self.access.writer(user_id, room_id)
        if reply_to is not None:
            target = await self.store.messages.get(reply_to)
            if target is None or target.room_id != room_id:
                raise ValidationFailed("replyTo must be a message in this room")
        if thread_id is not None:
            await self.threads.check_root(room_id, thread_id)
        return await self.mentions.check(room_id, mentions)

    async def _within_limits(
        self, user_id: str, room_id: str, client_id: str | None
    ) -> Message | None:
        """Count the send against the user's limits. Over a limit, a resend of a message already
        stored is answered with it (returned here) rather than refused."""
        try:
            await self.limiter.hit("messages", user_id, room_id)
            # Across rooms too: a per-room limit alone let 12 rooms x 5 messages through at once.
            await self.limiter.hit("user_messages", user_id)
        except RateLimited:
            if client_id is not None:
                existing = await self.store.messages.by_client_id(user_id, client_id)
                if existing is not None:
                    return existing
            raise
        return None

    async def _sender(self, user_id: str) -> User | None:
        """The sender (name and avatar for the view), from a short cache."""
        hit = self._senders.get(user_id)
        if hit is not None:
            return hit[0]
        return self._senders.put(user_id, await self.store.users.get(user_id))

    # -- changing -------------------------------------------------------------------------------

    async def _message(self, message_id: str) -> Message:
        msg = await self.store.messages.get(message_id) if is_id(message_id) else None
        if msg is None:
            raise NotFound("Message not found")
        return msg

    async def edit(self, user_id: str, message_id: str, text: str) -> MessageWire:
        """New text for the sender's own message; returns the message's view."""
        await self.limiter.hit("edits", user_id)  # each edit is a broadcast to the room
        msg = await self._message(message_id)
        room, _ = await self.access.writable(user_id, msg.room_id)
        if msg.sender_id != user_id:
            raise Forbidden("Only the sender may edit a message")
        await self.rules.check_write(user_id, room)
        if msg.deleted:
            raise NotFound("Message not found")
        if msg.type == "system":
            raise Forbidden("System messages cannot be edited")
        updated = await self.store.messages.edit(message_id, text, now_ms())
        if updated is None:
            raise NotFound("Message not found")
        updated.ver = await stamp(self.store, updated)
        view = await present_one(self.store, self.urls, updated)
        await self._refresh_last(updated)
        await self.publisher.publish("message-updated", view, Audience.room(msg.room_id))
        return view

    async def delete(self, user_id: str, message_id: str) -> None:
        """Leave a tombstone in the message's place; its reactions and files go."""
        await self.limiter.hit("edits", user_id)  # edits and deletes share one budget
        msg = await self._message(message_id)
        if not self.rules.admins.is_admin(await self._sender(user_id)):  # server admins: anywhere
            _, member = await self.access.writable(user_id, msg.room_id)
            if msg.sender_id != user_id and member.role not in MANAGERS:
                raise Forbidden(
                    "Only the sender or the room's owner or admins may delete a message"
                )
        await self.tombstone(msg)

    async def tombstone(self, msg: Message) -> None:
        """Delete the message for everyone, with no access check and no rate limit (`delete`
        checks first; a deleted account's messages have no one to check): a tombstone in its
        place, its reactions and files gone, the room's summary and `message-deleted`, and it
        stops counting as a mention or a thread reply. Already deleted: nothing happens; gone
        (with its room): NotFound."""
        if msg.deleted:
            return
        updated = await self.store.messages.tombstone(msg.id, now_ms())
        await self.store.reactions.delete_message(msg.id)
        await self.files.delete(msg.attachments)
        if updated is None:
            raise NotFound("Message not found")
        ver = await stamp(self.store, updated)
        await self._refresh_last(updated)
        payload = {"messageId": msg.id, "roomId": msg.room_id, "seq": msg.seq, "ver": ver}
        await self.publisher.publish("message-deleted", payload, Audience.room(msg.room_id))
        await self._unlink(msg)

    async def _unlink(self, msg: Message) -> None:
        """A deleted message stops counting as a mention and as a reply in its thread."""
        if msg.mentions:
            await self.store.members.forget_mention(msg.room_id, msg.mentions, msg.seq)
        if msg.thread_id is not None:
            root = await self.threads.reply_deleted(msg.thread_id)
            if root is not None:
                await self.publisher.publish("message-updated", root, Audience.room(msg.room_id))

    async def _refresh_last(self, msg: Message) -> None:
        sender = await self.store.users.get(msg.sender_id)
        await self.store.rooms.refresh_last_message(
            msg.room_id, msg.seq, last_message_summary(msg, sender)
        )

    async def react(self, user_id: str, message_id: str, emoji: str) -> list[ReactionWire]:
        """Add the user's reaction, or take it back; returns the message's reactions."""
        await self.limiter.hit("reactions", user_id)
        msg = await self._message(message_id)
        room, _ = await self.access.writable(user_id, msg.room_id)
        if msg.deleted:
            raise NotFound("Message not found")
        await self.rules.check_write(user_id, room)
        await self.store.reactions.toggle(message_id, msg.room_id, user_id, emoji)
        ver = await stamp(self.store, msg)
        reactions = reactions_view(await self.store.reactions.for_messages([message_id]))
        payload = {
            "messageId": message_id, "roomId": msg.room_id, "reactions": reactions, "ver": ver,
        }  # fmt: skip
        await self.publisher.publish("reaction-updated", payload, Audience.room(msg.room_id))
        return reactions

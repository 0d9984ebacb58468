"""Messages: send (ordered, idempotent, acked after the write), history, sync, edit, delete, react."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from chat.errors import Forbidden, NotFound, RateLimited, ValidationFailed
from chat.ratelimit import RateLimiter
from chat.services.access import MANAGERS, Access
from chat.services.events import Audience, Publisher
from chat.services.group_commit import GroupCommit
from chat.services.presenters.messages import last_message_summary, message_view, reactions_view
from chat.services.presenters.time import iso
from chat.services.typing import TypingService
from chat.store import Store, new_id, now_ms
from chat.store.base import is_id

Doc = dict[str, Any]

SYNC_PAGE = 100
SENDER_CACHE_SECONDS = 10

# Called with a deleted message's attachments so their stored files go too.
FilesDeleter = Callable[[list[Doc]], Awaitable[None]]


class MessageService:
    def __init__(
        self,
        store: Store,
        access: Access,
        publisher: Publisher,
        limiter: RateLimiter,
        typing: TypingService,
    ):
        self.store = store
        self.access = access
        self.publisher = publisher
        self.limiter = limiter
        self.typing = typing
        self.files_deleter: FilesDeleter | None = None
        self.commits = GroupCommit(store, publisher, access.writer)
        self._senders: dict[str, tuple[Doc | None, float]] = {}

    # -- views ----------------------------------------------------------------------------------

    async def views(self, docs: list[Doc]) -> list[Doc]:
        """Message documents with their senders and reactions, two queries for the whole page."""
        if not docs:
            return []
        senders = {
            u["_id"]: u for u in await self.store.users.many(list({d["senderId"] for d in docs}))
        }
        rows = await self.store.reactions.for_messages([d["_id"] for d in docs])
        by_message: dict[str, list[Doc]] = {}
        for row in rows:
            by_message.setdefault(row["messageId"], []).append(row)
        return [
            message_view(
                d, senders.get(d["senderId"]), reactions_view(by_message.get(d["_id"], []))
            )
            for d in docs
        ]

    async def view(self, doc: Doc) -> Doc:
        return (await self.views([doc]))[0]

    # -- sending --------------------------------------------------------------------------------

    async def send(
        self,
        user_id: str,
        room_id: str,
        text: str,
        *,
        client_id: str | None = None,
        reply_to: str | None = None,
        kind: str = "text",
        attachments: list[Doc] | None = None,
        member_known: bool = False,
    ) -> tuple[Doc, bool]:
        """Store, then broadcast, a message. Returns (message, created); a repeated clientId
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
        try:
            await self.limiter.hit("messages", user_id, room_id)
            # Across rooms too: a per-room limit alone let 12 rooms x 5 messages through at once.
            await self.limiter.hit("user_messages", user_id)
        except RateLimited:
            if client_id is not None:  # a resend of something stored is answered, never limited
                existing = await self.store.messages.by_client_id(user_id, client_id)
                if existing is not None:
                    return await self.view(existing), False
            raise
        if reply_to is not None:
            target = await self.store.messages.get(reply_to)
            if target is None or target["roomId"] != room_id:
                raise ValidationFailed("replyTo must be a message in this room")
        doc: Doc = {
            "_id": new_id(),
            "roomId": room_id,
            "senderId": user_id,
            "type": kind,
            "text": text,
            "attachments": attachments or [],
            "fileBytes": sum(a.get("size", 0) for a in attachments or []),
        }
        if reply_to is not None:
            doc["replyTo"] = reply_to
        if client_id is not None:
            doc["clientId"] = client_id
        stored, view = await self.commits.submit(
            doc, await self._sender(user_id), member_known=member_known
        )
        if view is None:
            return await self.view(stored), False
        await self.typing.stop(user_id, room_id, quiet_if_idle=True)
        return view, True

    async def _sender(self, user_id: str) -> Doc | None:
        """The sender's name and avatar, from a 10-second cache: a renamed user's next messages
        may show the old name for that long."""
        hit = self._senders.get(user_id)
        if hit is not None and time.monotonic() - hit[1] < SENDER_CACHE_SECONDS:
            return hit[0]
        doc = await self.store.users.get(user_id)
        if len(self._senders) > 50_000:
            self._senders.clear()
        self._senders[user_id] = (doc, time.monotonic())
        return doc

    # -- reading --------------------------------------------------------------------------------

    async def history(
        self, user_id: str, room_id: str, *, before: int | None, after: int | None, limit: int
    ) -> tuple[list[Doc], bool]:
        await self.access.readable(user_id, room_id)
        docs, more = await self.store.messages.page(
            room_id, before=before, after=after, limit=limit
        )
        return await self.views(docs), more

    async def sync(self, user_id: str, last_seen: dict[str, int]) -> list[Doc]:
        """For each room, what came after the last seq the client saw, oldest first."""
        result = []
        for room_id, seq in last_seen.items():
            try:
                messages, more = await self.history(
                    user_id, room_id, before=None, after=seq, limit=SYNC_PAGE
                )
            except NotFound as exc:
                result.append(
                    {"roomId": room_id, "messages": [], "hasMore": False, "error": exc.to_dict()}
                )
                continue
            result.append({"roomId": room_id, "messages": messages, "hasMore": more})
        return result

    async def search(self, user_id: str, text: str, room_id: str | None, limit: int) -> list[Doc]:
        rooms = await self.store.members.room_ids(user_id)
        if room_id is not None:
            if room_id not in rooms:
                raise NotFound("Room not found")
            rooms = [room_id]
        return await self.views(await self.store.messages.search(rooms, text, limit))

    # -- changing -------------------------------------------------------------------------------

    async def _message(self, message_id: str) -> Doc:
        msg = await self.store.messages.get(message_id) if is_id(message_id) else None
        if msg is None:
            raise NotFound("Message not found")
        return msg

    async def edit(self, user_id: str, message_id: str, text: str) -> Doc:
        await self.limiter.hit("edits", user_id)  # each edit is a broadcast to the room
        msg = await self._message(message_id)
        await self.access.writable(user_id, msg["roomId"])
        if msg["senderId"] != user_id:
            raise Forbidden("Only the sender may edit a message")
        if "deletedAt" in msg:
            raise NotFound("Message not found")
        if msg["type"] == "system":
            raise Forbidden("System messages cannot be edited")
        updated = await self.store.messages.update(message_id, {"text": text, "editedAt": now_ms()})
        if updated is None:
            raise NotFound("Message not found")
        updated["ver"] = await self._stamp(updated)
        view = await self.view(updated)
        await self._refresh_last(updated)
        await self.publisher.publish("message-updated", view, Audience.room(msg["roomId"]))
        return view

    async def _stamp(self, msg: Doc) -> int:
        """Number a change already written to `msg` with the room's next ver, and record it.

        The write comes first and the number after it, so whatever state a sync reads, a later
        change to the message carries a ver above any cursor that sync could have handed out;
        two racing changes leave the message with the higher of their vers."""
        ver = await self.store.rooms.take_ver(msg["roomId"])
        if ver is None:
            raise NotFound("Room not found")
        await self.store.messages.raise_ver(msg["_id"], ver)
        return ver

    async def delete(self, user_id: str, message_id: str) -> None:
        await self.limiter.hit("edits", user_id)  # edits and deletes share one budget
        msg = await self._message(message_id)
        _, member = await self.access.writable(user_id, msg["roomId"])
        if msg["senderId"] != user_id and member["role"] not in MANAGERS:
            raise Forbidden("Only the sender or the room's owner or admins may delete a message")
        if "deletedAt" in msg:
            return
        tombstone = {"text": "", "attachments": [], "fileBytes": 0, "deletedAt": now_ms()}
        updated = await self.store.messages.update(message_id, tombstone)
        await self.store.reactions.delete_message(message_id)
        if self.files_deleter is not None and msg.get("attachments"):
            await self.files_deleter(msg["attachments"])
        if updated is None:
            raise NotFound("Message not found")
        ver = await self._stamp(updated)
        await self._refresh_last(updated)
        payload = {"messageId": message_id, "roomId": msg["roomId"], "seq": msg["seq"], "ver": ver}
        await self.publisher.publish("message-deleted", payload, Audience.room(msg["roomId"]))

    async def _refresh_last(self, msg: Doc) -> None:
        sender = await self.store.users.get(msg["senderId"])
        await self.store.rooms.refresh_last_message(
            msg["roomId"], msg["seq"], last_message_summary(msg, sender)
        )

    async def react(self, user_id: str, message_id: str, emoji: str) -> list[Doc]:
        await self.limiter.hit("reactions", user_id)
        msg = await self._message(message_id)
        await self.access.writable(user_id, msg["roomId"])
        if "deletedAt" in msg:
            raise NotFound("Message not found")
        await self.store.reactions.toggle(message_id, msg["roomId"], user_id, emoji)
        ver = await self._stamp(msg)
        reactions = reactions_view(await self.store.reactions.for_messages([message_id]))
        payload = {
            "messageId": message_id, "roomId": msg["roomId"], "reactions": reactions, "ver": ver,
        }  # fmt: skip
        await self.publisher.publish("reaction-updated", payload, Audience.room(msg["roomId"]))
        return reactions

    # -- receipts -------------------------------------------------------------------------------

    async def mark(self, user_id: str, room_id: str, seq: int, pointer: str) -> int:
        """Move the read or delivered pointer forward (never back, never past the last message)."""
        room, member = await self.access.writable(user_id, room_id)
        seq = min(seq, room.get("lastSeq", 0))
        before = member.get(pointer, 0)
        updated = await self.store.members.advance(room_id, user_id, pointer, seq)
        now = (updated or member).get(pointer, 0)
        if now > before:
            if pointer == "lastReadSeq":
                event, payload = "message-read-receipt", {
                    "roomId": room_id, "userId": user_id, "seq": now, "readAt": iso(now_ms()),
                }  # fmt: skip
            else:
                event, payload = "message-delivery-receipt", {
                    "roomId": room_id, "userId": user_id, "seq": now,
                }  # fmt: skip
            await self.publisher.publish(event, payload, Audience.room(room_id))
        return now

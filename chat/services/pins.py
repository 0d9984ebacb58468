"""Pins: a room's owner and admins pin and unpin messages; everyone who reads the room sees them.

A pin is a change to the message (it takes a ver and is announced as `message-updated`); deleting
a pinned message unpins it.
"""

from __future__ import annotations

from chat.domain import MANAGERS, Message, Pin
from chat.errors import Conflict, NotFound
from chat.services.access import Access, require_role
from chat.services.changes import stamp
from chat.services.events import Audience, Publisher
from chat.services.file_urls import FileUrls
from chat.services.message_views import present, present_one
from chat.services.presenters.shapes import MessageWire
from chat.store import Store, now_ms
from chat.store.base import is_id

MAX_PINS = 100  # per room, as Slack does: a pin board, not a second history


class PinService:
    def __init__(self, store: Store, access: Access, publisher: Publisher, urls: FileUrls):
        self.store = store
        self.access = access
        self.publisher = publisher
        self.urls = urls

    async def pin(self, user_id: str, message_id: str) -> MessageWire:
        msg = await self._pinnable(user_id, message_id)
        if msg.pinned is None and await self.store.message_refs.count_pinned(msg.room_id) >= (
            MAX_PINS
        ):
            raise Conflict(f"A room has at most {MAX_PINS} pinned messages; unpin one first")
        if msg.pinned is not None:
            return await present_one(self.store, self.urls, msg)  # already pinned: as it is
        return await self._change(message_id, Pin(by=user_id, at=now_ms()))

    async def unpin(self, user_id: str, message_id: str) -> MessageWire:
        msg = await self._pinnable(user_id, message_id)
        if msg.pinned is None:
            return await present_one(self.store, self.urls, msg)
        return await self._change(message_id, None)

    async def _pinnable(self, user_id: str, message_id: str) -> Message:
        msg = await self.store.messages.get(message_id) if is_id(message_id) else None
        if msg is None:
            raise NotFound("Message not found")
        _, member = await self.access.writable(user_id, msg.room_id)
        require_role(member, MANAGERS, "pin messages")
        if msg.deleted:
            raise NotFound("Message not found")
        return msg

    async def _change(self, message_id: str, pin: Pin | None) -> MessageWire:
        updated = await self.store.message_refs.pin(message_id, pin)
        if updated is None:  # deleted meanwhile
            raise NotFound("Message not found")
        await stamp(self.store, updated)
        view = await present_one(self.store, self.urls, updated)
        await self.publisher.publish("message-updated", view, Audience.room(updated.room_id))
        return view

    async def of_room(self, user_id: str, room_id: str) -> list[MessageWire]:
        """The room's pinned messages, most recently pinned first."""
        await self.access.readable(user_id, room_id)
        pinned = await self.store.message_refs.pinned(room_id, MAX_PINS)
        return await present(self.store, self.urls, pinned)

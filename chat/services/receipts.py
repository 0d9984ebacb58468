"""Read and delivery receipts: a member's pointers into a room, moved forward and announced."""

from __future__ import annotations

from chat.domain import Pointer
from chat.services.access import Access
from chat.services.events import Audience, Publisher
from chat.services.presenters.time import iso
from chat.store import Store, now_ms


class ReceiptService:
    def __init__(self, store: Store, access: Access, publisher: Publisher):
        self.store = store
        self.access = access
        self.publisher = publisher

    async def mark_read(self, user_id: str, room_id: str, seq: int) -> int:
        """The user has read the room up to `seq`; returns their read pointer as it is now."""
        now, moved = await self._advance(user_id, room_id, seq, "read")
        if moved:
            payload = {"roomId": room_id, "userId": user_id, "seq": now, "readAt": iso(now_ms())}
            await self.publisher.publish("message-read-receipt", payload, Audience.room(room_id))
        return now

    async def mark_delivered(self, user_id: str, room_id: str, seq: int) -> int:
        """The user's client has received the room up to `seq`; returns that pointer."""
        now, moved = await self._advance(user_id, room_id, seq, "delivered")
        if moved:
            payload = {"roomId": room_id, "userId": user_id, "seq": now}
            await self.publisher.publish(
                "message-delivery-receipt", payload, Audience.room(room_id)
            )
        return now

    async def _advance(
        self, user_id: str, room_id: str, seq: int, pointer: Pointer
    ) -> tuple[int, bool]:
        """Move the pointer forward (never back, never past the room's last message). Returns
        where it is now, and whether it moved."""
        room, member = await self.access.writable(user_id, room_id)
        before = member.seq(pointer)
        updated = await self.store.members.advance(
            room_id, user_id, pointer, min(seq, room.last_seq)
        )
        now = (updated or member).seq(pointer)
        return now, now > before

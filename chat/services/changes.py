"""Numbering a change to a stored message with its room's next ver (see Catch-up)."""

from __future__ import annotations

from chat.domain import Message
from chat.errors import NotFound
from chat.store import Store


async def stamp(store: Store, msg: Message) -> int:
    """Number a change already written to `msg` with the room's next ver, record it on the
    message, and return it.

    The write comes first and the number after it, so whatever state a sync reads, a later change
    to the message carries a ver above any cursor that sync could have handed out; two racing
    changes leave the message with the higher of their vers."""
    ver = await store.rooms.take_ver(msg.room_id)
    if ver is None:
        raise NotFound("Room not found")
    await store.messages.raise_ver(msg.id, ver)
    msg.ver = max(msg.ver, ver)
    return ver

"""Who is notified of a message: members whose level asks for it, less the sender, less anyone
who blocks the sender, less anyone with a live socket on any node (the presence ledger).

Messages of one room that wait together are decided together: one query for the candidates,
one question to the ledger, whatever the number of messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.domain import Member, Message, Room, RoomType, default_level
from chat.kit.ttl_cache import TtlCache
from chat.services.ledger import Ledger
from chat.store import Store

ROOM_CACHE_SECONDS = 10  # a renamed room's next notifications may show the old name this long


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: str
    mentioned: bool  # mentioned, or in a direct room: what a push marks urgent


def wants(member: Member, room_type: RoomType, mentioned: set[str]) -> bool:
    """`all`: every message; `mentions`: the ones that mention them; `none`: nothing. No
    level chosen: `all` in a direct room, `mentions` elsewhere."""
    level = member.notifications or default_level(room_type)
    return level == "all" or (level == "mentions" and member.user_id in mentioned)


class Recipients:
    def __init__(self, store: Store, ledger: Ledger) -> None:
        self.store = store
        self.ledger = ledger
        self._rooms: TtlCache[str, Room | None] = TtlCache(ROOM_CACHE_SECONDS, 10_000)

    async def room(self, room_id: str) -> Room | None:
        return await self._rooms.get_or_load(room_id, lambda: self.store.rooms.get(room_id))

    async def of(self, messages: list[Message], room: Room) -> list[list[Recipient]]:
        """Each message's recipients, in order. May raise Unavailable (the database or a shared
        ledger is away): try again later."""
        direct = room.type == "direct"
        everyone_mentioned = sorted({u for m in messages for u in m.mentions})
        candidates = await self.store.members.notify_candidates(
            room.id, everyone_mentioned, everyone=direct
        )
        wanted: list[list[Recipient]] = []
        for message in messages:
            mentioned = set(message.mentions)
            wanted.append(
                [
                    Recipient(m.user_id, direct or m.user_id in mentioned)
                    for m in candidates
                    if m.user_id != message.sender_id and wants(m, room.type, mentioned)
                ]
            )
        wanted = await self._unblocked(messages, wanted)
        ids = {r.user_id for found in wanted for r in found}
        connected = await self.ledger.connected(ids) if ids else set()
        return [[r for r in found if r.user_id not in connected] for found in wanted]

    async def _unblocked(
        self, messages: list[Message], wanted: list[list[Recipient]]
    ) -> list[list[Recipient]]:
        """Less those who block the sender: a blocked user's messages, mentions included, notify
        the blocker of nothing (services/blocks.py). One query for the whole batch."""
        sent = list(zip(messages, wanted, strict=True))
        blocks = await self.store.blocks.among(
            (r.user_id, m.sender_id) for m, found in sent for r in found
        )
        return [[r for r in found if (r.user_id, m.sender_id) not in blocks] for m, found in sent]

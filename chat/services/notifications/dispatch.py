"""Who is notified of a message: members whose level asks for it, less the sender, less anyone
who blocks the sender, less anyone with a live socket on any node (the presence ledger)."""

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

    async def of(self, message: Message, room: Room) -> list[Recipient]:
        """May raise Unavailable (the database or a shared ledger is away): retry later."""
        direct = room.type == "direct"
        mentioned = set(message.mentions)
        candidates = await self.store.members.notify_candidates(
            room.id, message.mentions, everyone=direct
        )
        wanted = [
            Recipient(m.user_id, direct or m.user_id in mentioned)
            for m in candidates
            if m.user_id != message.sender_id and wants(m, room.type, mentioned)
        ]
        if not wanted:
            return []
        # A blocked user's messages (their mentions included) notify the blocker of nothing.
        blockers = await self.store.blocks.blockers_of(
            message.sender_id, (r.user_id for r in wanted)
        )
        wanted = [r for r in wanted if r.user_id not in blockers]
        connected = await self.ledger.connected(r.user_id for r in wanted)
        return [r for r in wanted if r.user_id not in connected]

"""Who is notified of a message: members whose level asks for it, less the sender, less anyone
who blocks the sender, less anyone with a live socket on any node (the presence ledger), less
accounts that are disabled or gone.

Messages that wait together, of any rooms, are decided together: one query for the members
asked about (a direct room's pair, a room's members at `all`, the mentioned), one for blocks,
one question to the ledger, one query for the accounts, whatever the number of messages.

A room where nobody chose `all` is known as quiet for LEVELS_CACHE_SECONDS: a message there
that mentions nobody is dropped before it is queued (service.py). A level chosen on this node
clears its room at once (`level_changed`); one chosen through another node applies here within
that time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from chat.domain import Member, Message, Room, RoomType, default_level
from chat.kit.ttl_cache import TtlCache
from chat.services.ledger import Ledger
from chat.store import Store

ROOM_CACHE_SECONDS = 10  # a renamed room's next notifications may show the old name this long
LEVELS_CACHE_SECONDS = 5  # a room's members at `all`, as another node last read them


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
        self._at_all: TtlCache[str, tuple[str, ...]] = TtlCache(LEVELS_CACHE_SECONDS, 10_000)

    def quiet(self, room_id: str) -> bool:
        """Known (for now) to be a group room where nobody chose `all`: a message there that
        mentions nobody notifies nobody."""
        hit = self._at_all.get(room_id)
        return hit is not None and not hit[0]

    def level_changed(self, room_id: str) -> None:
        self._at_all.forget(room_id)

    async def rooms(self, room_ids: Iterable[str]) -> dict[str, Room]:
        """The rooms that exist, from the cache or one query for the rest."""
        found: dict[str, Room] = {}
        missing = []
        for room_id in set(room_ids):
            hit = self._rooms.get(room_id)
            if hit is None:
                missing.append(room_id)
            elif hit[0] is not None:
                found[room_id] = hit[0]
        loaded = {r.id: r for r in await self.store.rooms.many(missing)} if missing else {}
        for room_id in missing:
            room = self._rooms.put(room_id, loaded.get(room_id))
            if room is not None:
                found[room_id] = room
        return found

    async def of(
        self, messages: list[Message], rooms: Mapping[str, Room]
    ) -> tuple[list[list[Recipient]], int]:
        """Each message's recipients, in order (every message's room must be in `rooms`), and
        how many members were asked about (the work it took). May raise Unavailable (the
        database or a shared ledger is away): try again later."""
        at_all = await self._at_all_of({m.room_id: rooms[m.room_id] for m in messages}.values())
        asked = [self._asked(m, rooms[m.room_id], at_all) for m in messages]
        pairs = sorted(
            {(m.room_id, u) for m, users in zip(messages, asked, strict=True) for u in users}
        )
        members = await self.store.members.many(pairs) if pairs else {}
        wanted: list[list[Recipient]] = []
        for message, users in zip(messages, asked, strict=True):
            room, mentioned = rooms[message.room_id], set(message.mentions)
            direct = room.type == "direct"
            wanted.append(
                [
                    Recipient(u, direct or u in mentioned)
                    for u in users
                    if (m := members.get((room.id, u))) is not None
                    and wants(m, room.type, mentioned)
                ]
            )
        wanted = await self._unblocked(messages, wanted)
        ids = {r.user_id for found in wanted for r in found}
        connected = await self.ledger.connected(ids) if ids else set()
        usable = await self._usable(ids - connected)
        return [[r for r in found if r.user_id in usable] for found in wanted], len(pairs)

    def _asked(
        self, message: Message, room: Room, at_all: Mapping[str, tuple[str, ...]]
    ) -> list[str]:
        """Whom the message may notify before levels: a direct room's pair, or a group room's
        members at `all` and those it mentions; never its sender."""
        if room.type == "direct":
            users: Iterable[str] = room.direct_users
        else:
            users = (*at_all[room.id], *message.mentions)
        return [u for u in dict.fromkeys(users) if u != message.sender_id]

    async def _at_all_of(self, rooms: Iterable[Room]) -> dict[str, tuple[str, ...]]:
        """Each group room's members at level `all` (cached; those not cached are asked about
        at once, a query each: a room's `all` members stay cached while it is busy)."""
        group = [r.id for r in rooms if r.type != "direct"]
        found = await asyncio.gather(
            *(self._at_all.get_or_load(r, partial(self._load_at_all, r)) for r in group)
        )
        return dict(zip(group, found, strict=True))

    async def _load_at_all(self, room_id: str) -> tuple[str, ...]:
        chose = await self.store.members.notify_candidates(room_id, [], everyone=False)
        return tuple(m.user_id for m in chose)

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

    async def _usable(self, user_ids: set[str]) -> set[str]:
        """Those whose account still exists and is not disabled: a disabled account signs in
        nowhere, and a deleted one (still a direct room's member) is nobody. One query."""
        if not user_ids:
            return set()
        return {u.id for u in await self.store.users.many(sorted(user_ids)) if not u.disabled}

"""Presence: online while any connection is open; offline only after a grace period.

The ledger (chat/services/ledger.py) holds the state: which connections each user has, who is
"leaving"; this service decides what to announce.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from chat.errors import ChatError
from chat.kit.tasks import TaskSet
from chat.services.access import Access
from chat.services.batching import BatchLoader
from chat.services.events import Audience, Publisher
from chat.services.ledger import Ledger
from chat.services.presenters.time import iso
from chat.store import Store, now_ms

log = logging.getLogger("chat.presence")


class PresenceService:
    """Decides who hears about presence, so its cost grows with changes, not members squared.

    Pushed (`user-online`, `user-offline`, `user-status-update`): to the members of the user's
    direct rooms and rooms of at most `room_limit` members, and to sockets that subscribed to the
    user. Bigger rooms get presence on demand (`room_online`), as Discord's large_threshold does.
    """

    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        grace_seconds: float,
        ledger: Ledger,
        access: Access,
        room_limit: int = 100,
        reap_every: float = 7.5,
    ):
        self.store = store
        self.publisher = publisher
        self.grace = grace_seconds
        self.ledger = ledger
        self.access = access
        self.room_limit = room_limit
        self.reap_every = reap_every
        # Grace timers, and the reaper of a shared ledger.
        self._tasks = TaskSet()
        # A reconnect storm asks these for thousands of users at once: batched, not per user.
        self._member_counts = BatchLoader(store.rooms.member_counts)
        self._members = BatchLoader(store.members.user_ids_by_room)

    async def online(self, user_ids: Iterable[str]) -> set[str]:
        """Who others may see online: connected, and not invisible (status `offline`)."""
        return await self._visible(await self.ledger.online(list(user_ids)))

    async def _visible(self, connected: set[str]) -> set[str]:
        # One more look-up only when someone is connected at all.
        return connected - await self.ledger.hidden(connected) if connected else connected

    async def online_user_ids(self) -> set[str]:
        return await self._visible(await self.ledger.all_online())

    async def is_online(self, user_id: str) -> bool:
        return bool(await self.online([user_id]))

    async def peers(self, user_id: str, room_ids: list[str] | None = None) -> set[str]:
        """Who hears this user's presence pushed: members of their rooms of at most
        `room_limit` members (direct rooms included). Two queries, whatever the rooms' sizes,
        shared with the other connections being made at the same time."""
        rooms = room_ids if room_ids is not None else await self.store.members.room_ids(user_id)
        counts = await self._member_counts.load_many(rooms)
        small = [r for r, count in counts.items() if count <= self.room_limit]
        members = await self._members.load_many(small)
        return {u for ids in members.values() for u in ids} - {user_id}

    async def _announce(
        self, event: str, payload: dict[str, Any], user_id: str, peers: Iterable[str]
    ) -> None:
        audience = Audience(users=tuple(peers), watchers_of=(user_id,))
        await self.publisher.publish(event, payload, audience)

    async def connected(
        self, user_id: str, conn_id: str, room_ids: list[str], *, invisible: bool = False
    ) -> list[str]:
        """Record a connection, announce the user if they came online (unless they chose to
        be invisible), and return the online peers (what `online-users` tells the connection)."""
        await self.ledger.hide(user_id, invisible)  # before add: never shown for an instant
        came_online = await self.ledger.add(user_id, conn_id)
        peers = await self.peers(user_id, room_ids)
        if came_online and not invisible:
            await self._announce("user-online", {"userId": user_id}, user_id, peers)
        return sorted(await self.online(peers))

    async def disconnected(self, user_id: str, conn_id: str) -> None:
        if await self.ledger.remove(user_id, conn_id):
            self._tasks.spawn(self._after_grace(user_id))

    async def _after_grace(self, user_id: str) -> None:
        await asyncio.sleep(self.grace)
        try:
            if await self.ledger.settle(user_id):
                await self.went_offline(user_id)
        except ChatError as exc:
            log.warning("could not settle presence of %s: %s", user_id, exc.message)

    async def went_offline(self, user_id: str) -> None:
        if await self.ledger.hidden([user_id]):
            return  # invisible: peers were told "offline" when they switched; nothing new
        now = now_ms()
        await self.store.users.set_last_seen(user_id, now)
        payload = {"userId": user_id, "lastSeen": iso(now)}
        await self._announce("user-offline", payload, user_id, await self.peers(user_id))

    async def start(self) -> None:
        """With a shared ledger, reap the connections of nodes that died every `reap_every` s."""
        if self.ledger.shared:
            self._tasks.spawn(self._reap_forever())

    async def _reap_forever(self) -> None:
        """Announce offline the users whose connections all died with their node."""
        while True:
            await asyncio.sleep(self.reap_every)
            try:
                for user_id in await self.ledger.reap():
                    await self.went_offline(user_id)
            except ChatError as exc:
                log.debug("presence reaper skipped: %s", exc.message)  # the ledger logs outages

    async def status_changed(self, user_id: str, status: str) -> None:
        """`offline` while connected is invisible mode: peers see the user go offline and hear
        nothing more of their presence; their own sockets keep working and hear the change."""
        payload = {"userId": user_id, "status": status}
        connected = bool(await self.ledger.online([user_id]))
        was_invisible = bool(await self.ledger.hidden([user_id]))
        invisible = status == "offline"
        await self.ledger.hide(user_id, invisible)
        peers = await self.peers(user_id)
        if invisible:
            await self.publisher.publish("user-status-update", payload, Audience(users=(user_id,)))
            if connected and not was_invisible:
                gone = {"userId": user_id, "lastSeen": iso(now_ms())}
                await self._announce("user-offline", gone, user_id, peers)
            return
        if connected and was_invisible:
            await self._announce("user-online", {"userId": user_id}, user_id, peers)
        await self._announce("user-status-update", payload, user_id, [*peers, user_id])

    async def room_online(self, user_id: str, room_id: str, limit: int) -> tuple[list[str], int]:
        """Presence on demand: up to `limit` online members of a room the user may read, and
        how many are online in all."""
        await self.access.readable(user_id, room_id)
        online = sorted(await self.online(await self.store.members.user_ids(room_id)))
        return online[:limit], len(online)

    async def close(self) -> None:
        await self._tasks.close()

"""Presence: who is online (any connection open), with a grace period before going offline."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from chat.services.events import Audience, Publisher
from chat.services.views import iso
from chat.store import Store, now_ms


class LocalLedger:
    """Open connections per user, in this process. (A Redis ledger serves many nodes.)"""

    def __init__(self) -> None:
        self._conns: dict[str, set[str]] = {}

    async def add(self, user_id: str, conn_id: str) -> bool:
        """Record a connection; True if the user had none."""
        conns = self._conns.setdefault(user_id, set())
        first = not conns
        conns.add(conn_id)
        return first

    async def remove(self, user_id: str, conn_id: str) -> bool:
        """Forget a connection; True if it was the user's last."""
        conns = self._conns.get(user_id)
        if conns is None:
            return False
        conns.discard(conn_id)
        if conns:
            return False
        del self._conns[user_id]
        return True

    async def online(self, user_ids: Iterable[str]) -> set[str]:
        return {uid for uid in user_ids if uid in self._conns}

    async def all_online(self) -> set[str]:
        return set(self._conns)


class PresenceService:
    def __init__(
        self, store: Store, publisher: Publisher, grace_seconds: float, ledger: LocalLedger
    ):
        self.store = store
        self.publisher = publisher
        self.grace = grace_seconds
        self.ledger = ledger
        # Users whose last connection closed, waiting out the grace period; they still count online.
        self._leaving: dict[str, asyncio.Task] = {}

    async def online(self, user_ids: Iterable[str]) -> set[str]:
        ids = list(user_ids)
        return await self.ledger.online(ids) | {uid for uid in ids if uid in self._leaving}

    async def online_user_ids(self) -> set[str]:
        return await self.ledger.all_online() | set(self._leaving)

    async def is_online(self, user_id: str) -> bool:
        return bool(await self.online([user_id]))

    async def connected(self, user_id: str, conn_id: str) -> None:
        first = await self.ledger.add(user_id, conn_id)
        leaving = self._leaving.pop(user_id, None)
        if leaving is not None:
            leaving.cancel()  # back within the grace period: nobody saw them leave
            return
        if first:
            peers = await self.store.members.co_member_ids(user_id)
            await self.publisher.publish(
                "user-online", {"userId": user_id}, Audience.of_users(peers)
            )

    async def disconnected(self, user_id: str, conn_id: str) -> None:
        if await self.ledger.remove(user_id, conn_id) and user_id not in self._leaving:
            self._leaving[user_id] = asyncio.create_task(self._go_offline(user_id))

    async def _go_offline(self, user_id: str) -> None:
        await asyncio.sleep(self.grace)
        self._leaving.pop(user_id, None)
        if await self.ledger.online([user_id]):
            return
        now = now_ms()
        await self.store.users.set_last_seen(user_id, now)
        peers = await self.store.members.co_member_ids(user_id)
        payload = {"userId": user_id, "lastSeen": iso(now)}
        await self.publisher.publish("user-offline", payload, Audience.of_users(peers))

    async def online_peers(self, user_id: str) -> list[str]:
        peers = await self.store.members.co_member_ids(user_id)
        return sorted(await self.online(peers))

    async def status_changed(self, user_id: str, status: str) -> None:
        peers = await self.store.members.co_member_ids(user_id)
        payload = {"userId": user_id, "status": status}
        await self.publisher.publish(
            "user-status-update", payload, Audience.of_users([*peers, user_id])
        )

    async def close(self) -> None:
        for task in self._leaving.values():
            task.cancel()
        self._leaving.clear()

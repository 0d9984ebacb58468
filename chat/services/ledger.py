"""The presence ledger: which connections each user has on which node, and who is leaving.

PresenceService decides what to announce; the ledger only records. LocalLedger serves one node;
chat.store.presence_redis.RedisLedger is shared by every node through Redis.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class Ledger(Protocol):
    shared: bool
    """Whether other nodes record their connections here too (then a node that dies holding
    some leaves them behind, and PresenceService reaps them)."""

    async def start(self) -> None:
        """Begin whatever keeps this node's entries alive (a heartbeat)."""

    async def close(self) -> None:
        """Stop it and let go of the connection, if any."""

    async def add(self, user_id: str, conn_id: str) -> bool:
        """Record a connection; True if the user now comes online (was neither online nor leaving)."""

    async def remove(self, user_id: str, conn_id: str) -> bool:
        """Forget a connection; True if it was the last one (the user is now leaving)."""

    async def settle(self, user_id: str) -> bool:
        """After the grace period: True if the user is still gone (announce them offline)."""

    async def online(self, user_ids: Iterable[str]) -> set[str]:
        """Users with a connection, or within the grace period after their last one closed."""

    async def connected(self, user_ids: Iterable[str]) -> set[str]:
        """Users with a live connection now, on any node (the grace period does not count: a
        phone app sent to the background a second ago has no socket to hear a message on).
        May raise Unavailable when a shared ledger cannot be asked."""

    async def all_online(self) -> set[str]: ...

    async def reap(self) -> list[str]:
        """Users whose every connection was on a dead node; they are now offline."""

    async def hide(self, user_id: str, hidden: bool) -> None:
        """Mark a user invisible (status `offline` chosen) or visible again."""

    async def hidden(self, user_ids: Iterable[str]) -> set[str]: ...


class LocalLedger:
    """Open connections per user, in this process."""

    shared = False

    def __init__(self) -> None:
        self._conns: dict[str, set[str]] = {}
        self._leaving: set[str] = set()
        self._hidden: set[str] = set()

    async def add(self, user_id: str, conn_id: str) -> bool:
        conns = self._conns.setdefault(user_id, set())
        came_online = not conns and user_id not in self._leaving
        self._leaving.discard(user_id)
        conns.add(conn_id)
        return came_online

    async def remove(self, user_id: str, conn_id: str) -> bool:
        conns = self._conns.get(user_id)
        if conns is None or conn_id not in conns:
            return False
        conns.discard(conn_id)
        if conns:
            return False
        del self._conns[user_id]
        self._leaving.add(user_id)
        return True

    async def settle(self, user_id: str) -> bool:
        if user_id not in self._leaving:
            return False  # came back meanwhile
        self._leaving.discard(user_id)
        return user_id not in self._conns

    async def online(self, user_ids: Iterable[str]) -> set[str]:
        return {u for u in user_ids if u in self._conns or u in self._leaving}

    async def connected(self, user_ids: Iterable[str]) -> set[str]:
        return {u for u in user_ids if u in self._conns}

    async def all_online(self) -> set[str]:
        return set(self._conns) | self._leaving

    async def reap(self) -> list[str]:
        return []  # one node: nothing else can die

    async def start(self) -> None:
        pass  # nothing to keep alive

    async def close(self) -> None:
        pass

    async def hide(self, user_id: str, hidden: bool) -> None:
        if hidden:
            self._hidden.add(user_id)
        else:
            self._hidden.discard(user_id)

    async def hidden(self, user_ids: Iterable[str]) -> set[str]:
        return self._hidden.intersection(user_ids)

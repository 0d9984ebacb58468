"""Health: what /health reports about the server's dependencies."""

from __future__ import annotations

from chat.store import Store


class HealthService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def database_reachable(self, within: float = 2.5) -> bool:
        """True when the database answers within `within` seconds."""
        return await self._store.ping(within=within)

"""Users: directory, search, profiles and the caller's own profile."""

from __future__ import annotations

from typing import Any

from chat.errors import NotFound
from chat.services.accounts import Principal
from chat.services.presence import PresenceService
from chat.services.presenters.users import user_view
from chat.store import Store
from chat.store.base import is_id

Doc = dict[str, Any]


class UserService:
    def __init__(self, store: Store, presence: PresenceService):
        self.store = store
        self.presence = presence

    async def views(self, docs: list[Doc]) -> list[Doc]:
        online = await self.presence.online(d["_id"] for d in docs)
        return [user_view(d, d["_id"] in online) for d in docs]

    async def view(self, doc: Doc, *, own: bool = False) -> Doc:
        return user_view(doc, await self.presence.is_online(doc["_id"]), own=own)

    async def list(self, me: Principal, skip: int, limit: int) -> tuple[list[Doc], int]:
        docs, total = await self.store.users.list_others(me.user_id, skip, limit)
        return await self.views(docs), total

    async def search(self, me: Principal, q: str, limit: int) -> list[Doc]:
        return await self.views(await self.store.users.search(q, me.user_id, limit))

    async def online(self, me: Principal) -> list[Doc]:
        ids = sorted(await self.presence.online_user_ids() - {me.user_id})
        return await self.views(await self.store.users.many(ids))

    async def get(self, user_id: str) -> Doc:
        doc = await self.store.users.get(user_id) if is_id(user_id) else None
        if doc is None:
            raise NotFound("User not found")
        return doc

    async def update_me(self, me: Principal, fields: Doc) -> Doc:
        if "name" in fields:
            fields["nameKey"] = fields["name"].lower()
        doc = await self.store.users.update(me.user_id, fields) if fields else me.user
        if doc is None:
            raise NotFound("User not found")
        if "status" in fields:
            await self.presence.status_changed(me.user_id, fields["status"])
        return doc

    async def set_status(self, user_id: str, status: str) -> None:
        await self.store.users.update(user_id, {"status": status})
        await self.presence.status_changed(user_id, status)

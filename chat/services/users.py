"""Users: directory, search, profiles and the caller's own profile."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import cast

from chat.domain import DirectFrom, User, UserStatus
from chat.errors import NotFound
from chat.services.accounts import Principal
from chat.services.admins import ServerAdmins
from chat.services.presence import PresenceService
from chat.services.presenters.shapes import UserWire
from chat.services.presenters.users import user_view
from chat.store import Store
from chat.store.base import is_id


class UserService:
    def __init__(self, store: Store, presence: PresenceService, admins: ServerAdmins):
        self.store = store
        self.presence = presence
        self.admins = admins

    async def views(self, users: list[User]) -> list[UserWire]:
        online = await self.presence.online(u.id for u in users)
        return [user_view(u, u.id in online) for u in users]

    async def view(self, user: User, *, own: bool = False) -> UserWire:
        online = await self.presence.is_online(user.id)
        return user_view(user, online, own=own, admin=own and self.admins.is_admin(user))

    async def view_of(self, user_id: str) -> UserWire | None:
        """A user's profile by id, or None if there is no such user (any more)."""
        user = await self.store.users.get(user_id)
        return await self.view(user) if user else None

    async def list(self, me: Principal, skip: int, limit: int) -> tuple[list[UserWire], int]:
        users, total = await self.store.users.list_others(me.user_id, skip, limit)
        return await self.views(users), total

    # `builtins.list` below: `list` is also a method of this class.
    async def search(self, me: Principal, q: str, limit: int) -> builtins.list[UserWire]:
        return await self.views(await self.store.users.search(q, me.user_id, limit))

    async def online(self, me: Principal) -> builtins.list[UserWire]:
        ids = sorted(await self.presence.online_user_ids() - {me.user_id})
        return await self.views(await self.store.users.many(ids))

    async def profile(self, me: Principal, user_id: str) -> UserWire:
        """A user's profile; the caller's own includes their email."""
        user = await self.store.users.get(user_id) if is_id(user_id) else None
        if user is None:
            raise NotFound("User not found")
        return await self.view(user, own=user.id == me.user_id)

    async def update_me(self, me: Principal, fields: Mapping[str, str]) -> UserWire:
        """Change the caller's name, bio, status or allowDirectFrom (the ones given); their own
        profile after."""
        user: User | None = me.user
        if fields:
            user = await self.store.users.update(
                me.user_id,
                name=fields.get("name"),
                bio=fields.get("bio"),
                status=cast(UserStatus | None, fields.get("status")),  # validated by the schema
                allow_direct_from=cast(DirectFrom | None, fields.get("allowDirectFrom")),
            )
        if user is None:
            raise NotFound("User not found")
        if "status" in fields:
            await self.presence.status_changed(me.user_id, fields["status"])
        return await self.view(user, own=True)

    async def set_status(self, user_id: str, status: UserStatus) -> None:
        await self.store.users.update(user_id, status=status)
        await self.presence.status_changed(user_id, status)

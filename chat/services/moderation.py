"""Room moderation by its owner and admins: bans (out, and no way back in) and mutes (read,
but write nothing: services/room_rules.py refuses it).

Who may act on whom mirrors kicking (Membership.over): owners and admins, over anyone but the
owner, over an admin only when the owner. A user who is not a member can be banned too (kept out
before they come, as Discord allows), but only a member can be muted. A mute outlives leaving and
joining again; a ban removes the member (`member-left`, reason `banned`) and every socket of theirs
leaves the room's channel on every node.
"""

from __future__ import annotations

import contextlib

from chat.domain import MANAGERS
from chat.errors import NotFound
from chat.services.access import Access, existing_user, require_role
from chat.services.membership import Membership
from chat.services.presenters.moderation import BanWire, MuteWire, ban_view, mute_view
from chat.services.presenters.shapes import UserWire
from chat.services.room_rules import RoomRulesCache
from chat.services.users import UserService
from chat.store import Store
from chat.store.base import is_id

MINUTE_MS = 60_000
MUTES_LISTED = 1000


class ModerationService:
    def __init__(
        self,
        store: Store,
        access: Access,
        membership: Membership,
        users: UserService,
        rules: RoomRulesCache,
    ):
        self.store = store
        self.access = access
        self.membership = membership
        self.users = users
        self.rules = rules

    async def _managed(self, user_id: str, room_id: str, doing: str) -> None:
        _, member = await self.access.writable(user_id, room_id)
        require_role(member, MANAGERS, doing)

    async def _views(self, user_ids: list[str]) -> dict[str, UserWire]:
        users = await self.store.users.many(user_ids)
        return {view["id"]: view for view in await self.users.views(users)}

    # -- bans -----------------------------------------------------------------------------------

    async def ban(self, user_id: str, room_id: str, target_id: str, reason: str | None) -> BanWire:
        """Ban a member (removed at once) or anyone else (kept out before they come)."""
        room, member = await self.membership.over(user_id, room_id, target_id, "ban members")
        target = await existing_user(self.store, target_id)
        # The ban first: a join on its way after this is refused (Membership.join looks again).
        ban = await self.store.bans.put(room_id, target_id, user_id, reason or None)
        if member is not None:
            with contextlib.suppress(NotFound):  # left (or was removed) meanwhile
                await self.membership.remove(room, target_id, "banned")
        return ban_view(ban, await self.users.view(target))

    async def unban(self, user_id: str, room_id: str, target_id: str) -> None:
        """Lift a ban (none: no change); they may join again, by the usual doors."""
        await self._managed(user_id, room_id, "lift bans")
        if is_id(target_id):
            await self.store.bans.remove(room_id, target_id)

    async def bans(self, user_id: str, room_id: str) -> list[BanWire]:
        """The room's bans, most recent first (its owner and admins only)."""
        await self._managed(user_id, room_id, "see its bans")
        bans = await self.store.bans.of_room(room_id)
        views = await self._views([b.user_id for b in bans])
        return [ban_view(b, views[b.user_id]) for b in bans if b.user_id in views]

    # -- mutes ----------------------------------------------------------------------------------

    async def mute(
        self, user_id: str, room_id: str, target_id: str, minutes: int | None
    ) -> MuteWire:
        """Mute a member for `minutes`, or until unmuted (None); again: the new term replaces
        the old one."""
        _, member = await self.membership.over(user_id, room_id, target_id, "mute members")
        if member is None:
            raise NotFound("Not a member of this room")
        until = self.rules.clock() + minutes * MINUTE_MS if minutes else None
        mute = await self.store.mutes.put(room_id, target_id, user_id, until)
        await self._rules_changed(room_id)
        return mute_view(mute, await self.users.view(await existing_user(self.store, target_id)))

    async def unmute(self, user_id: str, room_id: str, target_id: str) -> None:
        """Lift a mute (none: no change)."""
        await self._managed(user_id, room_id, "lift mutes")
        if is_id(target_id) and await self.store.mutes.remove(room_id, target_id):
            await self._rules_changed(room_id)

    async def mutes(self, user_id: str, room_id: str) -> list[MuteWire]:
        """The room's mutes in force (its owner and admins only)."""
        await self._managed(user_id, room_id, "see its mutes")
        mutes = await self.store.mutes.in_force(room_id, self.rules.clock(), MUTES_LISTED)
        views = await self._views([m.user_id for m in mutes])
        return [mute_view(m, views[m.user_id]) for m in mutes if m.user_id in views]

    async def _rules_changed(self, room_id: str) -> None:
        """Written after the rule itself: sends checked before it, on any node, check again."""
        await self.store.rooms.bump_rules(room_id)
        self.rules.forget(room_id)

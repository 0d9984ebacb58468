"""Deleting an account (DELETE /api/users/me), in an order that a crash part-way can resume.

1. The password is checked (failures count against the account like failed logins).
2. Every session is revoked (with its browsers' push subscriptions) and every live socket, on
   every node, told `session-expired` (`account-deleted`) and cut: nothing the account does can
   race what follows.
3. Its public and private rooms are left as a leave would (the owner's successor; member-left;
   the last one out ends the room). Direct rooms stay, readable by the peer; one whose peer's
   account is gone too is ended.
4. Its messages that carry files become tombstones, as a deletion makes them (the same
   MessageService.tombstone), and their files go from storage; its avatar and its uploads that
   no message uses go as well. Its other messages stay, shown as sent by "Deleted user"
   (`sender.id` kept).
5. What is only its own goes: push subscriptions, email tokens. Its reactions, mentions and
   read positions stay in others' history as ids.
6. The user document goes last: its email is free for a new account. Rooms whose last message was
   its own get their summary again without its name; direct peers get room-updated.

Every step is idempotent, so if anything fails, signing in again and deleting again finishes it.
"""

from __future__ import annotations

import contextlib

from chat.domain import FILE_KINDS, Room, User
from chat.errors import Forbidden, NotFound
from chat.ratelimit import RateLimiter
from chat.security import PasswordHasher
from chat.services.accounts import Principal
from chat.services.attachment_files import AttachmentFiles
from chat.services.events import Publisher
from chat.services.messages import MessageService
from chat.services.orphans import OrphanUploads
from chat.services.presenters.messages import last_message_summary
from chat.services.rooms import RoomService
from chat.services.sessions import end_sessions
from chat.store import Store

PAGE = 200


class AccountDeletion:
    def __init__(
        self,
        store: Store,
        hasher: PasswordHasher,
        limiter: RateLimiter,
        publisher: Publisher,
        rooms: RoomService,
        messages: MessageService,
        files: AttachmentFiles,
        orphans: OrphanUploads,
    ):
        self.store = store
        self.hasher = hasher
        self.limiter = limiter
        self.publisher = publisher
        self.rooms = rooms
        self.messages = messages
        self.files = files
        self.orphans = orphans

    async def delete(self, me: Principal, password: str) -> None:
        user = me.user
        await self.limiter.check("login_account", user.email)
        if not await self.hasher.verify(password, user.password_hash):
            await self.limiter.hit("login_account", user.email)
            raise Forbidden("Password is incorrect")
        await end_sessions(self.store, self.publisher, user.id, "account-deleted")
        direct = await self._leave_rooms(user.id)
        await self._erase_file_messages(user.id)
        await self._forget_personal(user)
        await self.store.users.delete(user.id)
        await self._refresh_summaries(user.id)
        for room in direct:
            await self.rooms.views.announce("room-updated", room)

    async def _leave_rooms(self, user_id: str) -> list[Room]:
        """Leave every room but direct ones; return the direct rooms whose peer remains."""
        kept = []
        for member in await self.store.members.of_user(user_id):
            room = await self.store.rooms.get(member.room_id)
            if room is None:
                continue
            if room.type != "direct":
                with contextlib.suppress(NotFound):  # left, or ended, meanwhile
                    await self.rooms.leave(user_id, room.id)
            elif await self._peer_remains(room, user_id):
                kept.append(room)
            else:
                await self.rooms.membership.close(room)
        return kept

    async def _peer_remains(self, room: Room, user_id: str) -> bool:
        others = [u for u in room.direct_users if u != user_id]
        return bool(others) and await self.store.users.get(others[0]) is not None

    async def _erase_file_messages(self, user_id: str) -> None:
        after: tuple[str, int] | None = None
        while True:
            page = await self.store.sent.page(
                user_id, after, PAGE, kinds=FILE_KINDS, live_only=True
            )
            for msg in page:
                # As a delete would, with no member check: the room may be one it left long ago.
                with contextlib.suppress(NotFound):  # gone with its room meanwhile
                    await self.messages.tombstone(msg)
            if len(page) < PAGE:
                return
            after = (page[-1].room_id, page[-1].seq)

    async def _forget_personal(self, user: User) -> None:
        if user.avatar_key:
            await self.files.delete_quietly(user.avatar_key, user.avatar_resource)
        await self.orphans.delete_of_user(user.id)
        await self.store.push_subscriptions.forget_user(user.id)  # (a resumed deletion's too)
        await self.store.tokens.delete_of_user(user.id)

    async def _refresh_summaries(self, user_id: str) -> None:
        """Room listings show a last message's sender name: not the deleted account's."""
        for room in await self.store.rooms.many(await self.store.sent.room_ids(user_id)):
            last = room.last_message
            if last is None or last.get("senderId") != user_id or last.get("senderName") is None:
                continue
            msg = await self.store.messages.get(str(last["id"]))
            if msg is not None:
                summary = last_message_summary(msg, None)
                await self.store.rooms.refresh_last_message(room.id, msg.seq, summary)

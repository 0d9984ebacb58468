"""Who may write to a room right now, beyond membership: its mutes, its slow mode (and who is
exempt from it) and, for a direct room, whether its two users block each other.

Kept per node, so a plain send pays no query for it. It stays exact across nodes all the same:
every change to these rules (a mute or unmute, slow mode, a role, a block between a direct room's
two users) writes the rule and then takes a new `rulesVer` on the room, and the group commit takes
a send's seq only while the room's `rulesVer` is still the one the send was checked against
(store.rooms.reserve_seqs). A send checked against older rules, on any node, is refused there
(RulesChanged) and checked again against fresh ones: see MessageService.send. Reactions and edits
read the room anyway (Access.writable), so they compare its `rulesVer` with the cached one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from chat.domain import MANAGERS, Message, Mute, Room, RoomType, User
from chat.errors import Forbidden, RateLimited, Unavailable
from chat.kit.ttl_cache import TtlCache
from chat.ratelimit import RateLimiter
from chat.services.access import Access
from chat.services.admins import ServerAdmins
from chat.services.group_commit import Outcome
from chat.services.presenters.time import iso
from chat.store import Store, now_ms
from chat.store.rooms import RulesChanged

# Only bounds memory and the life of a room nobody sends to: correctness rests on `rulesVer`.
RULES_CACHE_SECONDS = 120.0
RULES_TRIES = 5  # checks of one send against rules that keep changing, before UNAVAILABLE
# The mutes in force a room's rules hold; past it, a sender not among them is looked up by id.
MUTES_HELD = 200
Clock = Callable[[], int]  # epoch milliseconds
# GroupCommit.submit: (message, sender, member_known=, rules_ver=) -> (stored, view or None).
Submit = Callable[..., Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class RoomRules:
    room_id: str
    kind: RoomType
    ver: int
    slow_mode_seconds: int
    managers: frozenset[str]  # the owner and admins: exempt from slow mode
    mutes: Mapping[str, Mute]
    direct_users: tuple[str, ...] = ()
    blocked: bool = False  # a direct room whose users block each other (either way)
    every_mute: bool = True  # False: the room has more mutes in force than `mutes` holds

    def refusal(self, user_id: str, now: int, mute: Mute | None = None) -> Forbidden | None:
        """Why this user may not write here now (muted, or a blocked direct room), or None;
        `mute`: the user's own, looked up when `mutes` may not hold it (RoomRulesCache.refusal)."""
        mute = mute or self.mutes.get(user_id)
        if mute is not None and mute.active(now):
            until = iso(mute.until) if mute.until is not None else None
            return Forbidden("You are muted in this room", {"mutedUntil": until})
        if self.blocked and user_id in self.direct_users:
            return Forbidden("You cannot send messages to this user")
        return None


class RoomRulesCache:
    def __init__(self, store: Store, clock: Clock = now_ms, ttl: float = RULES_CACHE_SECONDS):
        self.store = store
        self.clock = clock  # tests move time forward to see a mute expire
        self._rules: TtlCache[str, RoomRules] = TtlCache(ttl, 20_000)

    async def of(
        self, room_id: str, *, current: Room | None = None, fresh: bool = False
    ) -> RoomRules | None:
        """The room's rules (None: no such room); with `current`, a room just read, as of it;
        `fresh`: read now, not from this node's cache."""
        hit = None if fresh else self._rules.get(room_id)
        if hit is not None and (current is None or hit[0].ver == current.rules_ver):
            return hit[0]
        room = current or await self.store.rooms.get(room_id)
        if room is None:
            return None
        return self._rules.put(room_id, await self._load(room))

    async def _load(self, room: Room) -> RoomRules:
        # The room (its rulesVer) first, the rules after: a change in between makes them
        # stricter than that version, never laxer, and takes a new version anyway.
        direct = room.type == "direct" and len(room.direct_users) == 2
        mutes, managers, blocked = await asyncio.gather(
            self.store.mutes.in_force(room.id, self.clock(), MUTES_HELD + 1),
            self.store.members.ids_with_roles(room.id, MANAGERS),
            self.store.blocks.between(*room.direct_users[:2]) if direct else _false(),
        )
        return RoomRules(
            room_id=room.id, kind=room.type, ver=room.rules_ver,
            slow_mode_seconds=room.slow_mode_seconds, managers=frozenset(managers),
            mutes={m.user_id: m for m in mutes[:MUTES_HELD]}, every_mute=len(mutes) <= MUTES_HELD,
            direct_users=room.direct_users, blocked=blocked,
        )  # fmt: skip

    async def refusal(self, rules: RoomRules, user_id: str) -> Forbidden | None:
        """`rules.refusal`, looking the user's mute up by id in a room with more mutes in force
        than its rules hold (MUTES_HELD): a query per send there, none anywhere else."""
        mute = None
        if not rules.every_mute and user_id not in rules.mutes:
            mute = await self.store.mutes.get(rules.room_id, user_id, self.clock())
        return rules.refusal(user_id, self.clock(), mute)

    def forget(self, room_id: str) -> None:
        self._rules.forget(room_id)


async def _false() -> bool:
    return False


class SendRules:
    """The checks a message passes before its batch: not muted, not a blocked direct room, and
    slow mode (one message per N seconds per member, counted in the rate limiter's storage, so
    on every node), which the room's managers and the server admins are spared."""

    def __init__(
        self, cache: RoomRulesCache, access: Access, limiter: RateLimiter, admins: ServerAdmins
    ):
        self.cache = cache
        self.access = access
        self.limiter = limiter
        self.admins = admins

    async def submit(
        self, submit: Submit, message: Message, sender: User | None, *, member_known: bool
    ) -> Outcome:
        """Check the send against the room's rules, then submit it to the group commit, which
        stores it only while the rules are still those (else: check again)."""
        counted = False  # against slow mode, once per send however often it is checked
        for _ in range(RULES_TRIES):
            try:
                rules, counted = await self.screen(
                    message, sender, member_known=member_known, slow_counted=counted
                )
            except RateLimited:  # slow mode: a resend of a stored message is answered with it
                first = await self._stored_before(message)
                if first is None:
                    raise
                return first, None
            try:
                ver = rules.ver if rules is not None else None
                return await submit(message, sender, member_known=member_known, rules_ver=ver)
            except RulesChanged:
                self.cache.forget(message.room_id)
        raise Unavailable("The room's rules keep changing: send again")

    async def _stored_before(self, message: Message) -> Message | None:
        if message.client_id is None:
            return None
        return await self.cache.store.messages.by_client_id(message.sender_id, message.client_id)

    async def screen(
        self, message: Message, sender: User | None, *, member_known: bool, slow_counted: bool
    ) -> tuple[RoomRules | None, bool]:
        """Raise the refusal, if any. Returns the rules checked against (None: no such room;
        the batch says so) and whether this send has been counted against slow mode. A send
        is refused on fresh rules only: this node's may be older than a lifted mute or block."""
        rules = await self.cache.of(message.room_id)
        if rules is None:
            return None, slow_counted
        try:
            return rules, await self._check(rules, message, sender, member_known, slow_counted)
        except (Forbidden, RateLimited):
            fresh = await self.cache.of(message.room_id, fresh=True)
            if fresh is None or fresh.ver == rules.ver:
                raise
        return fresh, await self._check(fresh, message, sender, member_known, slow_counted)

    async def _check(
        self,
        rules: RoomRules,
        message: Message,
        sender: User | None,
        member_known: bool,
        slow_counted: bool,
    ) -> bool:
        user_id = message.sender_id
        refusal = await self.cache.refusal(rules, user_id)
        if refusal is not None:
            raise refusal
        if slow_counted or not self.slowed(rules, user_id, sender):
            return slow_counted
        if not member_known:  # a stranger hears "not found", not that the room is slow
            await self.access.writer(user_id, message.room_id)
        await self.limiter.hit_once_per(
            rules.slow_mode_seconds, "slow_mode", message.room_id, user_id
        )
        return True

    def slowed(self, rules: RoomRules, user_id: str, user: User | None) -> bool:
        return (
            rules.slow_mode_seconds > 0
            and user_id not in rules.managers
            and not self.admins.is_admin(user)
        )

    async def check_write(self, user_id: str, room: Room) -> None:
        """For reactions and edits: refuse a muted member, or a blocked direct room's users."""
        rules = await self.cache.of(room.id, current=room)
        refusal = await self.cache.refusal(rules, user_id) if rules else None
        if refusal is not None:
            raise refusal

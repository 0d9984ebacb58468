"""Group commit of sends: while one batch is being written, the sends behind it gather and are
stored together (one membership query, one seq and ver reservation per room, one insert, one
update of the senders' read pointers), then announced in seq order and acked.

No timer: a lone send is written at once, so latency at low load does not grow; batches form
only while the database is busy, which is when they pay.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from chat.domain import Message, User
from chat.errors import NotFound
from chat.metrics import MESSAGES_STORED, SEND_BATCHES
from chat.services.events import Audience, Notifier, Publisher
from chat.services.file_urls import FileUrls
from chat.services.message_links import MessageLinks
from chat.services.presenters.messages import message_view
from chat.services.presenters.shapes import MessageWire
from chat.services.resends import pull_back_pointers, read_pointers, settle_duplicates
from chat.services.reservations import number, reserve
from chat.store import Store, now_ms

MAX_BATCH = 500
# Batches in flight at once (each for other rooms): enough to keep the database busy while the
# event loop is slow to come back to each one, few enough that batches stay large under load.
MAX_WRITERS = 2
RECENT_CLIENT_IDS = 20_000

# Raises the refusal for a send by a non-member (it fetches the room to word it).
Refusal = Callable[[str, str], Awaitable[Any]]
# What a send is answered with: the stored message, and its view if this send stored it (None:
# the same clientId was stored before, and nothing was announced).
Outcome = tuple[Message, MessageWire | None]


def _future() -> asyncio.Future[Outcome]:
    return asyncio.get_running_loop().create_future()


@dataclass(slots=True)
class Pending:
    message: Message  # seq, ver and createdAt are given when its batch is written
    sender: User | None
    origin: Any
    member_known: bool  # the caller already knows the sender is a member (see submit)
    rules_ver: int | None = None  # the room's rules it was checked against (room_rules.py)
    result: asyncio.Future[Outcome] = field(default_factory=_future)

    @property
    def key(self) -> tuple[str, str] | None:
        client_id = self.message.client_id
        return (self.message.sender_id, client_id) if client_id is not None else None


class GroupCommit:
    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        refuse: Refusal,
        urls: FileUrls,
        notifier: Notifier,
        links: MessageLinks,
    ):
        self.store = store
        self.links = links
        self.notifier = notifier
        self.urls = urls
        self.publisher = publisher
        self.refuse = refuse
        self._queue: list[Pending] = []
        self._writers = 0
        self._busy_rooms: set[str] = set()
        # (sender, clientId) of sends in flight and recently stored on this node: a resend is
        # answered from here without taking a seq (a resend elsewhere is found at insert time).
        self._inflight: dict[tuple[str, str], Pending] = {}
        self._recent: OrderedDict[tuple[str, str], str] = OrderedDict()
        self.batches = 0  # for tests and benchmarks: how many batches were written

    async def submit(
        self,
        message: Message,
        sender: User | None,
        *,
        member_known: bool = False,
        rules_ver: int | None = None,
    ) -> Outcome:
        """Store the message and announce it. Returns (stored message, its view), or for a
        clientId stored before, (that first message, None) and nothing is announced. With
        `rules_ver`, RulesChanged if the room's rules are no longer that version."""
        pending = Pending(message, sender, self.publisher.origin(), member_known, rules_ver)
        key = pending.key
        if key is not None:
            if key in self._inflight:  # the same send, still being written
                stored, _ = await asyncio.shield(self._inflight[key].result)
                return stored, None
            if key in self._recent:
                first = await self.store.messages.get(self._recent[key])
                if first is not None:
                    return first, None
            self._inflight[key] = pending
        self._queue.append(pending)
        self._start_writers()
        try:
            return await asyncio.shield(pending.result)
        finally:
            if key is not None and self._inflight.get(key) is pending:
                del self._inflight[key]

    def _start_writers(self) -> None:
        """Start a batch with every queued send whose room has no write in flight, while fewer
        than MAX_WRITERS batches are in flight. A room is in one batch at a time, so its seqs,
        its writes and its announcements keep one order; other rooms need not wait for it."""
        while self._writers < MAX_WRITERS and self._queue:
            batch: list[Pending] = []
            rest: list[Pending] = []
            held = set(self._busy_rooms)  # a send left behind keeps its room's later ones behind
            for pending in self._queue:
                room_id = pending.message.room_id
                if room_id in held or len(batch) >= MAX_BATCH:
                    held.add(room_id)
                    rest.append(pending)
                else:
                    batch.append(pending)
            if not batch:
                return
            self._queue = rest
            rooms = {p.message.room_id for p in batch}
            self._busy_rooms |= rooms
            self._writers += 1
            # A clean context: the writer publishes for many connections, never as the first.
            asyncio.get_running_loop().create_task(
                self._write_batch(batch, rooms), context=contextvars.Context()
            )

    async def _write_batch(self, batch: list[Pending], rooms: set[str]) -> None:
        try:
            await self._write(batch)
        except Exception as exc:  # each waiting send gets the error
            for pending in batch:
                if not pending.result.done():
                    pending.result.set_exception(exc)
        finally:
            self._busy_rooms -= rooms
            self._writers -= 1
            self._start_writers()

    async def _write(self, batch: list[Pending]) -> None:
        self.batches += 1
        SEND_BATCHES.inc()
        batch = await self._members_only(batch)
        by_room: dict[str, list[Pending]] = {}
        for pending in batch:
            by_room.setdefault(pending.message.room_id, []).append(pending)
        now = now_ms()
        lasts = await asyncio.gather(
            *(reserve(self.store, room_id, sends, now) for room_id, sends in by_room.items())
        )
        placed = number(by_room, lasts, now)
        # The senders' read pointers move with the insert, not after it: one round trip less.
        pointers = read_pointers(placed)
        refused, _ = await asyncio.gather(
            self.store.messages.insert_many([p.message for p in placed]),
            self.store.members.advance_many("read", pointers),
        )
        last_of = {
            room_id: last[0] if last else None for room_id, last in zip(by_room, lasts, strict=True)
        }
        stored = await settle_duplicates(self.store, placed, refused, by_room, last_of)
        if refused:
            await pull_back_pointers(self.store, pointers, stored, [placed[i] for i in refused])
        MESSAGES_STORED.inc(len(stored))
        messages = [p.message for p in stored]
        await self.links.stored(messages)
        for pending in stored:  # in seq order per room: the order the room will see
            self._remember(pending)
            msg = pending.message
            view = self.urls.message(message_view(msg, pending.sender, []))
            await self.publisher.publish(
                "new-message", view, Audience.room(msg.room_id), echo=False, origin=pending.origin
            )
            pending.result.set_result((msg, view))
            self.notifier.message_stored(msg, pending.sender)  # only queues: never waits
        for view in await self.links.announced(messages):
            await self.publisher.publish("message-updated", view, Audience.room(view["roomId"]))

    async def _members_only(self, batch: list[Pending]) -> list[Pending]:
        """The sends whose sender is a member of the room; the others get their refusal."""
        pairs = list(
            dict.fromkeys(
                (p.message.room_id, p.message.sender_id) for p in batch if not p.member_known
            )
        )
        members = await self.store.members.many(pairs) if pairs else {}
        allowed = []
        for pending in batch:
            msg = pending.message
            if pending.member_known or (msg.room_id, msg.sender_id) in members:
                allowed.append(pending)
                continue
            try:
                await self.refuse(msg.sender_id, msg.room_id)
                pending.result.set_exception(NotFound("Room not found"))
            except Exception as exc:
                pending.result.set_exception(exc)
        return allowed

    def _remember(self, pending: Pending) -> None:
        key = pending.key
        if key is None:
            return
        self._recent[key] = pending.message.id
        if len(self._recent) > RECENT_CLIENT_IDS:
            self._recent.popitem(last=False)

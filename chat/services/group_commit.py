"""Group commit of sends: while one batch is being written, the sends behind it gather and are
stored together (one membership query, one seq and ver reservation per room, one insert, one
update of the senders' read pointers), then announced in seq order and acked.

No timer: a lone send is written at once, so latency at low load does not grow; batches form
only while the database is busy, which is when they pay.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from chat.errors import NotFound
from chat.metrics import MESSAGES_STORED, SEND_BATCHES
from chat.services.events import Audience, Publisher
from chat.services.presenters.messages import last_message_summary, message_view
from chat.store import Store, now_ms

log = logging.getLogger("chat.messages")

Doc = dict[str, Any]
MAX_BATCH = 500
# Batches in flight at once (each for other rooms): enough to keep the database busy while the
# event loop is slow to come back to each one, few enough that batches stay large under load.
MAX_WRITERS = 2
RECENT_CLIENT_IDS = 20_000

# Raises the refusal for a send by a non-member (it fetches the room to word it).
Refusal = Callable[[str, str], Awaitable[Any]]


@dataclass
class Pending:
    doc: Doc  # the message to store, without seq and createdAt
    sender: Doc | None
    origin: Any
    member_known: bool  # the caller already knows the sender is a member (see submit)
    # (the stored document, its view if this send stored it, None if it was stored before)
    result: asyncio.Future[tuple[Doc, Doc | None]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def key(self) -> tuple[str, str] | None:
        client_id = self.doc.get("clientId")
        return (self.doc["senderId"], client_id) if client_id is not None else None


def _pointers(sends: list[Pending]) -> dict[tuple[str, str], int]:
    """Each sender's newest seq per room: sending marks the room read up to it."""
    pointers: dict[tuple[str, str], int] = {}
    for pending in sends:
        key = (pending.doc["roomId"], pending.doc["senderId"])
        pointers[key] = max(pointers.get(key, 0), pending.doc["seq"])
    return pointers


class GroupCommit:
    def __init__(self, store: Store, publisher: Publisher, refuse: Refusal):
        self.store = store
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
        self, doc: Doc, sender: Doc | None, *, member_known: bool = False
    ) -> tuple[Doc, Doc | None]:
        """Store the message and announce it. Returns (stored document, its view), or for a
        clientId stored before, (that first document, None) and nothing is announced."""
        pending = Pending(doc, sender, self.publisher.origin(), member_known)
        key = pending.key
        if key is not None:
            if key in self._inflight:  # the same send, still being written
                stored, _ = await asyncio.shield(self._inflight[key].result)
                return stored, None
            if key in self._recent:
                stored = await self.store.messages.get(self._recent[key])
                if stored is not None:
                    return stored, None
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
            batch, rest = [], []
            held = set(self._busy_rooms)  # a send left behind keeps its room's later ones behind
            for pending in self._queue:
                room_id = pending.doc["roomId"]
                if room_id in held or len(batch) >= MAX_BATCH:
                    held.add(room_id)
                    rest.append(pending)
                else:
                    batch.append(pending)
            if not batch:
                return
            self._queue = rest
            rooms = {p.doc["roomId"] for p in batch}
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
            by_room.setdefault(pending.doc["roomId"], []).append(pending)
        now = now_ms()
        lasts = await asyncio.gather(
            *(self._reserve(room_id, sends, now) for room_id, sends in by_room.items())
        )
        docs = []
        for sends, last in zip(by_room.values(), lasts, strict=True):
            if last is None:
                for pending in sends:
                    pending.result.set_exception(NotFound("Room not found"))
                continue
            # A new message's ver is its own change number, taken with its seq.
            first_seq, first_ver = last[0] - len(sends) + 1, last[1] - len(sends) + 1
            for i, pending in enumerate(sends):
                pending.doc["seq"] = first_seq + i
                pending.doc["ver"] = first_ver + i
                pending.doc["createdAt"] = now
                docs.append(pending)
        # The senders' read pointers move with the insert, not after it: one round trip less.
        pointers = _pointers(docs)
        refused, _ = await asyncio.gather(
            self.store.messages.insert_many([p.doc for p in docs]),
            self.store.members.advance_many("lastReadSeq", pointers),
        )
        last_of = {
            room_id: last[0] if last else None for room_id, last in zip(by_room, lasts, strict=True)
        }
        stored = await self._settle_duplicates(docs, refused, by_room, last_of)
        if refused:
            await self._pull_back_pointers(pointers, stored, [docs[i] for i in refused])
        MESSAGES_STORED.inc(len(stored))
        for pending in stored:  # in seq order per room: the order the room will see
            self._remember(pending)
            view = message_view(pending.doc, pending.sender, [])
            await self.publisher.publish(
                "new-message",
                view,
                Audience.room(pending.doc["roomId"]),
                echo=False,
                origin=pending.origin,
            )
            pending.result.set_result((pending.doc, view))

    async def _members_only(self, batch: list[Pending]) -> list[Pending]:
        """The sends whose sender is a member of the room; the others get their refusal."""
        pairs = list(
            dict.fromkeys((p.doc["roomId"], p.doc["senderId"]) for p in batch if not p.member_known)
        )
        members = await self.store.members.many(pairs) if pairs else {}
        allowed = []
        for pending in batch:
            if pending.member_known or (pending.doc["roomId"], pending.doc["senderId"]) in members:
                allowed.append(pending)
                continue
            try:
                await self.refuse(pending.doc["senderId"], pending.doc["roomId"])
                pending.result.set_exception(NotFound("Room not found"))
            except Exception as exc:
                pending.result.set_exception(exc)
        return allowed

    async def _reserve(
        self, room_id: str, sends: list[Pending], now: int
    ) -> tuple[int, int] | None:
        newest = sends[-1]
        summary = last_message_summary({**newest.doc, "seq": 0, "createdAt": now}, newest.sender)
        del summary["seq"]  # the room's lastSeq is this message's seq
        return await self.store.rooms.reserve_seqs(room_id, len(sends), summary, now)

    async def _settle_duplicates(
        self,
        docs: list[Pending],
        refused: list[int],
        by_room: dict[str, list[Pending]],
        lasts: dict[str, int | None],
    ) -> list[Pending]:
        """Answer resends found at insert time with the stored message, and close the seq gaps
        they left: the stored messages of that room move down, and the unused top is given
        back (when another node has taken seqs since, the gap stays and is logged).

        Vers are neither moved nor given back: the kept messages keep theirs (still unique and
        in seq order) and the resends' leave a gap. A ver may already have been read by a sync
        or taken by an edit since, and a ver handed out twice would hide a change from a
        client holding it as its cursor; a skipped one costs nothing."""
        if not refused:
            return docs
        duplicates = {id(docs[i]) for i in refused}
        for i in refused:
            pending = docs[i]
            first = await self.store.messages.by_client_id(*pending.key)  # type: ignore[misc]
            if first is None:
                pending.result.set_exception(NotFound("Message not found"))
            else:
                pending.result.set_result((first, None))
        stored = [p for p in docs if id(p) not in duplicates]
        for room_id, sends in by_room.items():
            last = lasts[room_id]
            if last is None or not any(id(p) in duplicates for p in sends):
                continue
            kept = [p for p in sends if id(p) not in duplicates]
            first_seq = last - len(sends) + 1
            for seq, pending in enumerate(kept, start=first_seq):
                if pending.doc["seq"] != seq:
                    await self.store.messages.set_seq(pending.doc["_id"], seq)
                    pending.doc["seq"] = seq
            unused = len(sends) - len(kept)
            if not await self.store.rooms.give_back_seqs(room_id, last, unused):
                log.warning("room %s: %d seqs left unused after resends", room_id, unused)
        return stored

    async def _pull_back_pointers(
        self, set_to: dict[tuple[str, str], int], stored: list[Pending], resends: list[Pending]
    ) -> None:
        """Resends moved their rooms' messages down: move the senders' pointers with them, to
        their newest message (a resend's is the first one's seq), unless they moved since."""
        newest = _pointers(stored)
        for pending in resends:
            if pending.result.done() and pending.result.exception() is None:
                first, _ = pending.result.result()
                key = (first["roomId"], first["senderId"])
                newest[key] = max(newest.get(key, 0), first["seq"])
        for key, seq in newest.items():
            if key in set_to and seq < set_to[key]:
                await self.store.members.pull_back("lastReadSeq", *key, set_to[key], seq)

    def _remember(self, pending: Pending) -> None:
        key = pending.key
        if key is None:
            return
        self._recent[key] = pending.doc["_id"]
        if len(self._recent) > RECENT_CLIENT_IDS:
            self._recent.popitem(last=False)

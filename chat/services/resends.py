"""Resends found at insert time (services/group_commit.py): a send whose (sender, clientId) was
already stored, by another node or before a restart, took a seq in its batch that it must not
keep. These answer it with the first message and close the gap it left."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from chat.errors import NotFound
from chat.store import Store

if TYPE_CHECKING:
    from chat.services.group_commit import Pending

log = logging.getLogger("chat.messages")

Pointers = dict[tuple[str, str], int]


def read_pointers(sends: Iterable[Pending]) -> Pointers:
    """Each sender's newest seq per room: sending marks the room read up to it."""
    pointers: Pointers = {}
    for pending in sends:
        msg = pending.message
        key = (msg.room_id, msg.sender_id)
        pointers[key] = max(pointers.get(key, 0), msg.seq)
    return pointers


async def settle_duplicates(
    store: Store,
    placed: list[Pending],
    refused: list[int],
    by_room: dict[str, list[Pending]],
    lasts: dict[str, int | None],
) -> list[Pending]:
    """Answer resends found at insert time with the stored message, and close the seq gaps they
    left: the stored messages of that room move down, and the unused top is given back (when
    another node has taken seqs since, the gap stays and is logged). Returns the sends stored.

    Vers are neither moved nor given back: the kept messages keep theirs (still unique and in
    seq order) and the resends' leave a gap. A ver may already have been read by a sync or taken
    by an edit since, and a ver handed out twice would hide a change from a client holding it as
    its cursor; a skipped one costs nothing."""
    if not refused:
        return placed
    duplicates = {id(placed[i]) for i in refused}
    for i in refused:
        pending = placed[i]
        msg = pending.message
        first = await store.messages.by_client_id(msg.sender_id, msg.client_id or "")
        if first is None:
            pending.result.set_exception(NotFound("Message not found"))
        else:
            pending.result.set_result((first, None))
    for room_id, sends in by_room.items():
        last = lasts[room_id]
        if last is not None and any(id(p) in duplicates for p in sends):
            kept = [p for p in sends if id(p) not in duplicates]
            await _close_gap(store, room_id, last, kept, len(sends) - len(kept))
    return [p for p in placed if id(p) not in duplicates]


async def _close_gap(
    store: Store, room_id: str, last: int, kept: list[Pending], unused: int
) -> None:
    first_seq = last - len(kept) - unused + 1
    for seq, pending in enumerate(kept, start=first_seq):
        if pending.message.seq != seq:
            await store.messages.set_seq(pending.message.id, seq)
            pending.message.seq = seq
    if not await store.rooms.give_back_seqs(room_id, last, unused):
        log.warning("room %s: %d seqs left unused after resends", room_id, unused)


async def pull_back_pointers(
    store: Store, set_to: Pointers, stored: list[Pending], resends: list[Pending]
) -> None:
    """Resends moved their rooms' messages down: move the senders' pointers with them, to their
    newest message (a resend's is the first one's seq), unless they moved since."""
    newest = read_pointers(stored)
    for pending in resends:
        if pending.result.done() and pending.result.exception() is None:
            first, _ = pending.result.result()
            key = (first.room_id, first.sender_id)
            newest[key] = max(newest.get(key, 0), first.seq)
    for (room_id, user_id), seq in newest.items():
        was = set_to.get((room_id, user_id))
        if was is not None and seq < was:
            await store.members.pull_back("read", room_id, user_id, was, seq)

"""A batch's seqs (services/group_commit.py): one reservation per room, taken only while the
room's rules are the ones its sends were checked against, then numbered in send order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat.errors import NotFound
from chat.services.presenters.messages import last_message_summary
from chat.store import Store
from chat.store.rooms import RulesChanged

if TYPE_CHECKING:
    from chat.services.group_commit import Pending

Reservation = tuple[int, int] | None  # the last seq and ver taken; None: nothing taken


async def reserve(store: Store, room_id: str, sends: list[Pending], now: int) -> Reservation:
    """Take seqs and vers for the room's sends, with the newest one's summary. Sends checked
    against rules that are no longer the room's (services/room_rules.py) take nothing and get
    RulesChanged, to be checked again; so do sends checked against different versions."""
    newest = sends[-1]
    newest.message.created_at = now
    summary: dict[str, object] = dict(last_message_summary(newest.message, newest.sender))
    del summary["seq"]  # the room's lastSeq is this message's seq
    versions = {p.rules_ver for p in sends}
    try:
        if len(versions) > 1:
            raise RulesChanged(room_id)
        return await store.rooms.reserve_seqs(room_id, len(sends), summary, now, versions.pop())
    except RulesChanged as exc:
        for pending in sends:
            pending.result.set_exception(exc)
        return None


def number(by_room: dict[str, list[Pending]], lasts: list[Reservation], now: int) -> list[Pending]:
    """Give each send its seq and ver from its room's reservation (a new message's ver is its
    own change number, taken with its seq); a room that is gone refuses its sends."""
    placed = []
    for sends, last in zip(by_room.values(), lasts, strict=True):
        if last is None:
            for pending in sends:
                if not pending.result.done():  # (else refused already: RulesChanged)
                    pending.result.set_exception(NotFound("Room not found"))
            continue
        first_seq, first_ver = last[0] - len(sends) + 1, last[1] - len(sends) + 1
        for i, pending in enumerate(sends):
            msg = pending.message
            msg.seq = first_seq + i
            msg.ver = first_ver + i
            msg.created_at = now
            placed.append(pending)
    return placed

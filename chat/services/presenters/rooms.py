"""Rooms on the wire, as one viewer sees them (their role, pointers and unread count)."""

from __future__ import annotations

from typing import Any

from chat.services.presenters.time import iso

Doc = dict[str, Any]


def room_view(
    room: Doc,
    member: Doc | None = None,
    *,
    unread: int | None = None,
    peer: Doc | None = None,
) -> Doc:
    """A room as a viewer sees it: with their role and pointers if they are a member."""
    last = room.get("lastMessage")
    view = {
        "id": room["_id"],
        "type": room["type"],
        "name": room["name"],
        "description": room.get("description", ""),
        "ownerId": room.get("ownerId"),
        "memberCount": room.get("memberCount", 0),
        "lastSeq": room.get("lastSeq", 0),
        "lastVer": room.get("lastVer", 0),  # rooms stored before vers existed: 0
        # The summary is written with the seq reservation, so it describes message lastSeq.
        "lastMessage": {**last, "seq": room.get("lastSeq", 0)} if last else None,
        "createdAt": iso(room["createdAt"]),
        "updatedAt": iso(room["updatedAt"]),
    }
    if member is not None:
        view["myRole"] = member["role"]
        view["lastReadSeq"] = member.get("lastReadSeq", 0)
        if room["type"] == "private" and member["role"] in ("owner", "admin"):
            view["inviteCode"] = room.get("inviteCode")
    if unread is not None:
        view["unreadCount"] = unread
    if peer is not None:
        view["peer"] = peer
    return view

"""Stored documents to wire objects (camelCase, string ids, ISO-8601 UTC times with `Z`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Doc = dict[str, Any]


def iso(value: int | datetime | None) -> str | None:
    """Epoch milliseconds (how times are stored) or a datetime, as `2026-11-21T10:00:00.000Z`."""
    if value is None:
        return None
    if isinstance(value, int):
        value = datetime.fromtimestamp(value / 1000, UTC)
    elif value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def user_view(doc: Doc, online: bool, *, own: bool = False) -> Doc:
    view = {
        "id": doc["_id"],
        "name": doc["name"],
        "avatarUrl": doc.get("avatarUrl"),
        "bio": doc.get("bio", ""),
        # The chosen status shows while connected; a disconnected user is simply offline.
        "status": doc.get("status", "online") if online else "offline",
        "online": online,
        "lastSeen": iso(doc.get("lastSeen")),
        "createdAt": iso(doc["createdAt"]),
    }
    if own:
        view["email"] = doc["email"]
    return view


def sender_view(doc: Doc) -> Doc:
    return {"id": doc["_id"], "name": doc["name"], "avatarUrl": doc.get("avatarUrl")}


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


def reactions_view(rows: list[Doc]) -> list[Doc]:
    """Reaction rows of one message, grouped by emoji in order of first use."""
    grouped: dict[str, list[str]] = {}
    for row in rows:
        grouped.setdefault(row["emoji"], []).append(row["userId"])
    return [{"emoji": e, "count": len(ids), "userIds": ids} for e, ids in grouped.items()]


def message_view(msg: Doc, sender: Doc | None, reactions: list[Doc] | None = None) -> Doc:
    return {
        "id": msg["_id"],
        "roomId": msg["roomId"],
        "seq": msg["seq"],
        "ver": msg.get("ver", 0),  # messages stored before vers existed: 0
        "sender": sender_view(sender)
        if sender
        else {"id": msg["senderId"], "name": "Deleted user", "avatarUrl": None},
        "type": msg["type"],
        "text": msg.get("text", ""),
        "attachments": [attachment_view(a) for a in msg.get("attachments", [])],
        "replyTo": msg.get("replyTo"),
        "reactions": reactions or [],
        "clientId": msg.get("clientId"),
        "createdAt": iso(msg["createdAt"]),
        "editedAt": iso(msg.get("editedAt")),
        "deletedAt": iso(msg.get("deletedAt")),
    }


def last_message_summary(msg: Doc, sender: Doc | None) -> Doc:
    """What a room listing shows of its newest message."""
    return {
        "id": msg["_id"],
        "seq": msg["seq"],
        "type": msg["type"],
        "text": msg.get("text", "")[:200],
        "senderId": msg["senderId"],
        "senderName": sender["name"] if sender else None,
        "createdAt": iso(msg["createdAt"]),
        "deleted": "deletedAt" in msg,
    }


PUBLIC_ATTACHMENT_FIELDS = ("url", "name", "mimeType", "size", "width", "height", "thumbnail")


def attachment_view(doc: Doc) -> Doc:
    """An attachment without its storage bookkeeping (key, backend)."""
    return {k: doc[k] for k in PUBLIC_ATTACHMENT_FIELDS if k in doc}

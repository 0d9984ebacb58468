"""Messages on the wire: a message, its reactions, attachments, and a room's last-message summary."""

from __future__ import annotations

from typing import Any

from chat.services.presenters.time import iso
from chat.services.presenters.users import sender_view

Doc = dict[str, Any]


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

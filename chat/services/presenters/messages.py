"""Messages on the wire: a message, its reactions, attachments, and a room's last-message summary."""

from __future__ import annotations

from chat.domain import Attachment, Message, Reaction, ThreadSummary, User
from chat.services.presenters.shapes import (
    AttachmentWire,
    LastMessageWire,
    MessageWire,
    ReactionWire,
    ThreadWire,
)
from chat.services.presenters.time import iso
from chat.services.presenters.users import DELETED_USER_NAME, sender_view


def reactions_view(rows: list[Reaction]) -> list[ReactionWire]:
    """Reactions to one message, grouped by emoji in order of first use."""
    grouped: dict[str, list[str]] = {}
    for row in rows:
        grouped.setdefault(row.emoji, []).append(row.user_id)
    return [{"emoji": e, "count": len(ids), "userIds": ids} for e, ids in grouped.items()]


def message_view(
    msg: Message, sender: User | None, reactions: list[ReactionWire] | None = None
) -> MessageWire:
    return {
        "id": msg.id,
        "roomId": msg.room_id,
        "seq": msg.seq,
        "ver": msg.ver,  # messages stored before vers existed: 0
        "sender": sender_view(sender)
        if sender
        else {"id": msg.sender_id, "name": DELETED_USER_NAME, "avatarUrl": None},
        "type": msg.type,
        "text": msg.text,
        "attachments": [attachment_view(a) for a in msg.attachments],
        "replyTo": msg.reply_to,
        "reactions": reactions or [],
        "clientId": msg.client_id,
        "createdAt": iso(msg.created_at),
        "editedAt": iso(msg.edited_at),
        "deletedAt": iso(msg.deleted_at),
        "mentions": msg.mentions,
        "threadId": msg.thread_id,
        "thread": _thread_view(msg.thread),
        "pinned": {"by": msg.pinned.by, "at": iso(msg.pinned.at)} if msg.pinned else None,
    }


def _thread_view(thread: ThreadSummary | None) -> ThreadWire | None:
    if thread is None:
        return None
    return {
        "replyCount": thread.reply_count,
        "lastReplyAt": iso(thread.last_reply_at),
        "participantIds": list(thread.participant_ids),
    }


def last_message_summary(msg: Message, sender: User | None) -> LastMessageWire:
    """What a room listing shows of its newest message."""
    return {
        "id": msg.id,
        "seq": msg.seq,
        "type": msg.type,
        "text": msg.text[:200],
        "senderId": msg.sender_id,
        "senderName": sender.name if sender else None,
        "createdAt": iso(msg.created_at),
        "deleted": msg.deleted,
    }


def attachment_view(a: Attachment) -> AttachmentWire:
    """An attachment without its storage bookkeeping (key, backend, resource types)."""
    view: AttachmentWire = {"url": a.url, "name": a.name, "mimeType": a.mime_type, "size": a.size}
    if a.width is not None and a.height is not None:
        view["width"], view["height"] = a.width, a.height
    if a.thumbnail is not None:
        t = a.thumbnail
        view["thumbnail"] = {"url": t.url, "width": t.width, "height": t.height}
    return view

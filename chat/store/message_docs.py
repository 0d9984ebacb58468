"""How a message and its attachments are stored, and read back as domain values.

A message document: `_id, roomId, senderId, type, text, attachments, fileBytes, [replyTo],
[clientId], [mentions], [threadId], seq, ver, createdAt, [editedAt], [deletedAt], [thread:
{replyCount, lastReplyAt, participantIds}], [pinned: {by, at}]`. Optional fields are left out rather
than stored as null ("deletedAt absent" means not deleted; a query for `deletedAt: None` matches
both). `fileBytes` (the attachments' sizes) is kept for the file statistics' `$sum`. Messages
stored before vers existed have no `ver`: they read as 0.

An attachment sub-document: `url, name, mimeType, size, key, backend, resourceType, [width,
height], [thumbnail: {url, width, height}, thumbnailKey, thumbnailResource]`; key, backend and the
resource types are storage bookkeeping that never reach the wire.
"""

from __future__ import annotations

from typing import Any

from chat.domain import Attachment, Message, Pin, ThreadSummary, Thumbnail

Doc = dict[str, Any]


def message_doc(msg: Message) -> Doc:
    doc: Doc = {
        "_id": msg.id,
        "roomId": msg.room_id,
        "senderId": msg.sender_id,
        "type": msg.type,
        "text": msg.text,
        "attachments": [attachment_doc(a) for a in msg.attachments],
        "fileBytes": msg.file_bytes,
    }
    if msg.reply_to is not None:
        doc["replyTo"] = msg.reply_to
    if msg.client_id is not None:
        doc["clientId"] = msg.client_id
    if msg.mentions:
        doc["mentions"] = msg.mentions
    if msg.thread_id is not None:
        doc["threadId"] = msg.thread_id
    doc["seq"] = msg.seq
    doc["ver"] = msg.ver
    doc["createdAt"] = msg.created_at
    if msg.edited_at is not None:
        doc["editedAt"] = msg.edited_at
    if msg.deleted_at is not None:
        doc["deletedAt"] = msg.deleted_at
    return doc


def message_of(doc: Doc) -> Message:
    get = doc.get
    return Message(
        id=doc["_id"],
        room_id=doc["roomId"],
        sender_id=doc["senderId"],
        type=doc["type"],
        text=get("text", ""),
        created_at=doc["createdAt"],
        seq=doc["seq"],
        ver=get("ver", 0),
        attachments=[attachment_of(a) for a in get("attachments") or ()],
        reply_to=get("replyTo"),
        client_id=get("clientId"),
        edited_at=get("editedAt"),
        deleted_at=get("deletedAt"),
        mentions=get("mentions") or [],
        thread_id=get("threadId"),
        thread=_thread_of(get("thread")),
        pinned=Pin(by=pin["by"], at=pin["at"]) if (pin := get("pinned")) else None,
    )


def _thread_of(doc: Doc | None) -> ThreadSummary | None:
    if not doc or not doc.get("replyCount"):
        return None
    return ThreadSummary(
        reply_count=doc["replyCount"],
        last_reply_at=doc.get("lastReplyAt", 0),
        participant_ids=tuple(doc.get("participantIds") or ()),
    )


def attachment_doc(a: Attachment) -> Doc:
    doc: Doc = {
        "url": a.url,
        "name": a.name,
        "mimeType": a.mime_type,
        "size": a.size,
        "key": a.key,
        "backend": a.backend,
        "resourceType": a.resource_type,
    }
    if a.width is not None:
        doc["width"], doc["height"] = a.width, a.height
    if a.thumbnail is not None:
        t = a.thumbnail
        doc["thumbnail"] = {"url": t.url, "width": t.width, "height": t.height}
        doc["thumbnailKey"] = t.key
        doc["thumbnailResource"] = t.resource_type
    return doc


def attachment_of(doc: Doc) -> Attachment:
    thumbnail = doc.get("thumbnail")
    return Attachment(
        url=doc["url"],
        name=doc["name"],
        mime_type=doc["mimeType"],
        size=doc.get("size", 0),
        key=doc.get("key", ""),
        backend=doc.get("backend", ""),
        resource_type=doc.get("resourceType"),
        width=doc.get("width"),
        height=doc.get("height"),
        thumbnail=Thumbnail(
            url=thumbnail["url"],
            width=thumbnail["width"],
            height=thumbnail["height"],
            key=doc.get("thumbnailKey"),
            resource_type=doc.get("thumbnailResource"),
        )
        if thumbnail
        else None,
    )

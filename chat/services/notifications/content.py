"""What a notification says: the Web Push payload, and the webhook's signed body."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from chat.domain import Message, Room, User
from chat.services.presenters.shapes import MessageWire
from chat.services.presenters.users import DELETED_USER_NAME

BODY_LIMIT = 200  # characters of a push's body (the contract's bound)


def push_payload(message: Message, sender: User | None, room: Room) -> dict[str, Any]:
    """`{type, roomId, messageId, seq, title, body}`: the title is the room's name, or the
    sender's in a direct room; the body is "Sender: text", or a word for an attachment."""
    name = sender.name if sender is not None else DELETED_USER_NAME
    return {
        "type": "message",
        "roomId": message.room_id,
        "messageId": message.id,
        "seq": message.seq,
        "title": name if room.type == "direct" else room.name,
        "body": clip(f"{name}: {summary(message)}", BODY_LIMIT),
    }


def summary(message: Message) -> str:
    text = " ".join(message.text.split())  # a notification is one line
    if text:
        return text
    if message.type == "image":
        return "Photo"
    return "File" if message.attachments else "Message"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def webhook_body(view: MessageWire, user_ids: list[str]) -> bytes:
    return encode({"type": "message", "userIds": user_ids, "message": view})


def webhook_headers(body: bytes, secret: str, message_id: str) -> dict[str, str]:
    """HMAC-SHA256 of the raw body; the time of this attempt in Unix seconds; the message id,
    the same on every retry, for a receiver to drop a repeat."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Chat-Signature": f"sha256={digest}",
        "X-Chat-Timestamp": str(int(time.time())),
        "X-Chat-Delivery": message_id,
    }

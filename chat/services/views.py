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

"""Users on the wire: a profile, and the short form a message shows of its sender."""

from __future__ import annotations

from typing import Any

from chat.services.presenters.time import iso

Doc = dict[str, Any]


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

"""Users on the wire: a profile, and the short form a message shows of its sender."""

from __future__ import annotations

from chat.domain import User
from chat.services.presenters.shapes import SenderWire, UserWire
from chat.services.presenters.time import iso

# Who a deleted account's messages, direct rooms and notifications are shown as from.
DELETED_USER_NAME = "Deleted user"


def user_view(user: User, online: bool, *, own: bool = False, admin: bool = False) -> UserWire:
    """A profile; `own`: as its user sees it (with email, verification, role, direct rooms)."""
    view: UserWire = {
        "id": user.id,
        "name": user.name,
        "avatarUrl": user.avatar_url,
        "bio": user.bio,
        # The chosen status shows while connected; a disconnected user is simply offline.
        "status": user.status if online else "offline",
        "online": online,
        "lastSeen": iso(user.last_seen),
        "createdAt": iso(user.created_at),
    }
    if own:
        view["email"] = user.email
        view["emailVerified"] = user.email_verified
        view["role"] = "admin" if admin else "user"
        view["allowDirectFrom"] = user.allow_direct_from
    return view


def deleted_user_view(user_id: str, since: int) -> UserWire:
    """What a direct room shows of a peer whose account was deleted: the id, DELETED_USER_NAME, and
    (having no date of its own) `since`, the room's creation, as createdAt."""
    return {
        "id": user_id,
        "name": DELETED_USER_NAME,
        "avatarUrl": None,
        "bio": "",
        "status": "offline",
        "online": False,
        "lastSeen": None,
        "createdAt": iso(since),
    }


def sender_view(user: User) -> SenderWire:
    return {"id": user.id, "name": user.name, "avatarUrl": user.avatar_url}

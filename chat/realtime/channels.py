"""Socket.IO room names. Every channel name in the project comes from here."""

from __future__ import annotations


def room_channel(room_id: str) -> str:
    return f"room:{room_id}"


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


def session_channel(session_id: str) -> str:
    return f"session:{session_id}"


def presence_channel(user_id: str) -> str:
    """Sockets that asked for this user's presence (`presence-subscribe`)."""
    return f"presence:{user_id}"

"""Ending sessions: the one way a signed-in device is signed out, whatever the reason (logout, a
password change or reset, a disabled or deleted account).

Ending a session deletes it (its token stops working at the next request, on every node), drops
the Web Push subscriptions its browser made (a browser that is signed out, an account thief's
among them, must not go on receiving the account's messages), and tells each of its live sockets,
on whichever node, `session-expired` with the reason before cutting it (Publisher.end_sessions).
"""

from __future__ import annotations

from chat.services.events import Publisher
from chat.store import Store


async def end_sessions(
    store: Store, publisher: Publisher, user_id: str, reason: str, *, keep: str | None = None
) -> list[str]:
    """End every session of the user but `keep`; return the ended ids. Ending every one also
    drops the user's subscriptions that name no session (saved before sessions were recorded)."""
    if keep is None:
        ended = await store.sessions.delete_all(user_id)
    else:
        ended = await store.sessions.delete_others(user_id, keep)
    await store.push_subscriptions.forget_sessions(user_id, ended, unbound=keep is None)
    await publisher.end_sessions(ended, reason)
    return ended


async def end_session(
    store: Store, publisher: Publisher, user_id: str, session_id: str, reason: str
) -> None:
    """End one session of the user (signing out)."""
    await store.sessions.delete(session_id)
    await store.push_subscriptions.forget_sessions(user_id, [session_id])
    await publisher.end_sessions([session_id], reason)

"""A socket's life on this node: authenticate on connect, subscribe, presence, expiry, the
per-user socket cap, and the bookkeeping a disconnect undoes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from http.cookies import CookieError, SimpleCookie
from typing import Any

import socketio

from chat.errors import ChatError, Unauthorized
from chat.kit.tasks import TaskSet
from chat.realtime.channels import room_channel, session_channel, user_channel
from chat.realtime.managers import NAMESPACE
from chat.security import session_token
from chat.services.container import Services
from config.settings import Settings

log = logging.getLogger("chat.realtime")

# Handshakes doing database work at once; the rest wait (cheaply) for a turn.
CONCURRENT_HANDSHAKES = 32


def _token_from(environ: dict[str, Any], auth: Any, cookie_name: str) -> str | None:
    """The handshake's session token, in the precedence chat.security.session_token sets."""
    auth_token = auth.get("token") if isinstance(auth, dict) else None
    return session_token(
        auth_token, environ.get("HTTP_AUTHORIZATION"), _cookie(environ, cookie_name)
    )


def _cookie(environ: dict[str, Any], name: str) -> str | None:
    try:
        morsel = SimpleCookie(environ.get("HTTP_COOKIE", "")).get(name)
    except CookieError:
        return None
    return morsel.value if morsel else None


class Connections(socketio.AsyncNamespace):
    """The connection lifecycle of the namespace; ChatNamespace adds the events."""

    def __init__(self, services: Services, settings: Settings) -> None:
        super().__init__(NAMESPACE)
        self.services = services
        self.settings = settings
        self._expiry: dict[str, asyncio.TimerHandle] = {}
        # Connected sockets and their users, for the presence bookkeeping.
        self._users: dict[str, str] = {}
        # Each user's sockets on this node, oldest first, for MAX_SOCKETS_PER_USER.
        self._sockets_of: dict[str, dict[str, None]] = {}
        self._admission = asyncio.Semaphore(CONCURRENT_HANDSHAKES)
        self._tasks = TaskSet()  # after-connect work, expiries, closing a user's oldest socket

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.spawn(coro)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        token = _token_from(environ, auth, self.settings.cookie_name)
        # In a reconnect storm, handshakes queue for the database; those whose clients gave up
        # meanwhile are dropped before any query, so work never goes to nobody and retries do
        # not snowball.
        async with self._admission:
            if not self._alive(sid):
                return False
            try:
                principal = await self.services.accounts.authenticate(token)
                room_ids = await self.services.rooms.room_ids(principal.user_id)
            except ChatError as exc:
                error = exc if exc.code != "INTERNAL" else Unauthorized()
                raise socketio.exceptions.ConnectionRefusedError(
                    error.message, error.to_dict()
                ) from None
        if not self._alive(sid):
            # The client gave up while we authenticated (a reconnect storm): refusing lets
            # python-socketio forget the half-made connection; nothing of ours was made yet.
            return False
        user_id = principal.user_id
        state = {
            "sid": sid,
            "user_id": user_id,
            "session_id": principal.session_id,
            "name": principal.user.name,
        }
        # From the liveness check to here nothing awaits I/O, so the session is still there.
        await self.save_session(sid, state)
        for channel in (
            user_channel(user_id),
            session_channel(principal.session_id),
            *(room_channel(r) for r in room_ids),
        ):
            await self.enter_room(sid, channel)
        self._count_in(sid, user_id)
        # Emits made inside this handler would overtake the CONNECT packet: do them afterwards.
        invisible = principal.user.status == "offline"  # chosen: others see offline
        self._spawn(self._after_connect(sid, user_id, room_ids, invisible))
        # A timer, not a task per socket: an idle socket costs one heap entry until it expires.
        delay = max(0.0, principal.expires_at - time.time())
        self._expiry[sid] = asyncio.get_running_loop().call_later(
            delay, lambda: self._spawn(self._expire(sid))
        )
        return True

    def _count_in(self, sid: str, user_id: str) -> None:
        """Record a connected socket; past MAX_SOCKETS_PER_USER, close the user's oldest."""
        self._users[sid] = user_id
        mine = self._sockets_of.setdefault(user_id, {})
        mine[sid] = None
        if len(mine) > self.settings.max_sockets_per_user:
            oldest = next(iter(mine))
            del mine[oldest]  # counted out now, so the next connect picks the next oldest
            self._spawn(self._close_oldest(oldest))

    def sockets_by_transport(self) -> dict[tuple[str, ...], float]:
        """Connected (authenticated) sockets by transport, counted when /metrics is scraped."""
        counts: dict[tuple[str, ...], float] = {("websocket",): 0.0, ("polling",): 0.0}
        eio = self.server.eio
        for sid in list(self._users):
            eio_sid = self.server.manager.eio_sid_from_sid(sid, NAMESPACE)
            sock = eio.sockets.get(eio_sid) if eio_sid is not None else None
            if sock is not None and not sock.closed:
                counts[("websocket",) if sock.upgraded else ("polling",)] += 1
        return counts

    def _alive(self, sid: str) -> bool:
        eio_sid = self.server.manager.eio_sid_from_sid(sid, NAMESPACE)
        sock = self.server.eio.sockets.get(eio_sid) if eio_sid is not None else None
        return sock is not None and not sock.closed

    async def _after_connect(
        self, sid: str, user_id: str, room_ids: list[str], invisible: bool = False
    ) -> None:
        await asyncio.sleep(0)
        if sid not in self._users:
            return  # gone already: never record a connection no disconnect will remove
        try:
            peers = await self.services.presence.connected(
                user_id, sid, room_ids, invisible=invisible
            )
            if sid not in self._users:
                # It disconnected while presence was recorded: undo, or the user stays online.
                await self.services.presence.disconnected(user_id, sid)
                return
            await self.emit("online-users", {"userIds": peers}, to=sid)
        except ChatError as exc:
            log.warning("after-connect work failed: %s", exc.message, extra={"sid": sid})

    async def _close_oldest(self, sid: str) -> None:
        """Past MAX_SOCKETS_PER_USER: tell the user's oldest socket why, then close it."""
        limit = self.settings.max_sockets_per_user
        await self.emit("too-many-sockets", {"limit": limit}, to=sid)
        await self.disconnect(sid)

    async def _expire(self, sid: str) -> None:
        self._expiry.pop(sid, None)
        await self.emit("session-expired", {"reason": "expired"}, to=sid)
        await self.disconnect(sid)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        expiry = self._expiry.pop(sid, None)
        if expiry is not None:
            expiry.cancel()
        user_id = self._users.pop(sid, None)
        if user_id is not None:
            mine = self._sockets_of.get(user_id)
            if mine is not None:
                mine.pop(sid, None)
                if not mine:
                    del self._sockets_of[user_id]
            try:
                await self.services.presence.disconnected(user_id, sid)
            except ChatError as exc:
                log.warning("presence update on disconnect failed: %s", exc.message)

    async def close(self) -> None:
        for handle in self._expiry.values():
            handle.cancel()
        self._expiry.clear()
        self._tasks.cancel_all()

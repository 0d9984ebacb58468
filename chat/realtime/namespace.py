"""The Socket.IO namespace `/`: authenticates connections and dispatches hyphenated events.

`trigger_event` is the one place socket errors become `{ok: false, error}` acks: every event gets
an answer, and a bad payload never closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any

import socketio

from chat import schemas
from chat.errors import ChatError, NotFound, Unauthorized, Unavailable, ValidationFailed
from chat.metrics import ACK_SECONDS, SOCKET_EVENTS
from chat.realtime.channels import (
    presence_channel,
    room_channel,
    session_channel,
    user_channel,
)
from chat.realtime.publisher import NAMESPACE, origin_sid
from chat.services.container import Services
from config.settings import Settings

log = logging.getLogger("chat.realtime")

State = dict[str, Any]
# Handshakes doing database work at once; the rest wait (cheaply) for a turn.
CONCURRENT_HANDSHAKES = 32
Handler = Callable[[State, Any], Awaitable[dict[str, Any] | None]]


def _token_from(environ: dict[str, Any], auth: Any, cookie_name: str) -> str | None:
    """auth.token first (what mobile and JS clients send), then Bearer, then the cookie."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"]:
        return auth["token"]
    scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    try:
        morsel = SimpleCookie(environ.get("HTTP_COOKIE", "")).get(cookie_name)
    except CookieError:
        return None
    return morsel.value if morsel else None


class ChatNamespace(socketio.AsyncNamespace):
    def __init__(self, services: Services, settings: Settings):
        super().__init__(NAMESPACE)
        self.services = services
        self.settings = settings
        self._expiry: dict[str, asyncio.TimerHandle] = {}
        # Connected sockets and their users, for the presence bookkeeping.
        self._users: dict[str, str] = {}
        # Each user's sockets on this node, oldest first, for MAX_SOCKETS_PER_USER.
        self._sockets_of: dict[str, dict[str, None]] = {}
        self._admission = asyncio.Semaphore(CONCURRENT_HANDSHAKES)
        self._tasks: set[asyncio.Task] = set()
        # Events being handled right now, so a shutdown can let them finish and ack.
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.draining = False
        self.handlers: dict[str, Handler] = {
            "join-room": self.join_room,
            "leave-room": self.leave_room,
            "send-message": self.send_message,
            "edit-message": self.edit_message,
            "delete-message": self.delete_message,
            "react-message": self.react_message,
            "typing-start": self.typing_start,
            "typing-stop": self.typing_stop,
            "message-read": self.message_read,
            "message-delivered": self.message_delivered,
            "get-history": self.get_history,
            "sync": self.sync,
            "user-status": self.user_status,
            "room-presence": self.room_presence,
            "presence-subscribe": self.presence_subscribe,
        }

    # -- dispatch -------------------------------------------------------------------------------

    async def trigger_event(self, event: Any, *args: Any) -> Any:
        if event == "connect":
            return await self.on_connect(*args)
        if event == "disconnect":
            return await self.on_disconnect(*args)
        sid, payloads = args[0], args[1:]
        if self.draining:
            error = Unavailable("The server is restarting: reconnect and send again")
            return {"ok": False, "error": error.to_dict()}
        token = origin_sid.set(sid)
        self._inflight += 1
        self._idle.clear()
        started = time.perf_counter()
        handler = self.handlers.get(event) if isinstance(event, str) else None
        # Metric labels from the fixed handler table only: a client's junk names never make series.
        name = event if handler is not None else "unknown"
        outcome = "ok"
        try:
            if handler is None:
                raise NotFound("Unknown event")
            if len(payloads) != 1:
                raise ValidationFailed("Expected exactly one payload object")
            state = await self.get_session(sid)
            result = await handler(state, payloads[0])
            return {"ok": True, **(result or {})}
        except ChatError as exc:
            outcome = exc.code
            return {"ok": False, "error": exc.to_dict()}
        except Exception:
            outcome = "INTERNAL"
            log.exception("event handler failed", extra={"event": str(event)[:64], "sid": sid})
            return {"ok": False, "error": ChatError().to_dict()}
        finally:
            SOCKET_EVENTS.labels(name, outcome).inc()
            ACK_SECONDS.labels(name).observe(time.perf_counter() - started)
            origin_sid.reset(token)
            self._inflight -= 1
            if not self._inflight:
                self._idle.set()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- connection lifecycle -------------------------------------------------------------------

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
            "name": principal.user["name"],
        }
        # From the liveness check to here nothing awaits I/O, so the session is still there.
        await self.save_session(sid, state)
        for channel in (
            user_channel(user_id),
            session_channel(principal.session_id),
            *(room_channel(r) for r in room_ids),
        ):
            await self.enter_room(sid, channel)
        self._users[sid] = user_id
        mine = self._sockets_of.setdefault(user_id, {})
        mine[sid] = None
        if len(mine) > self.settings.max_sockets_per_user:
            oldest = next(iter(mine))
            del mine[oldest]  # counted out now, so the next connect picks the next oldest
            self._spawn(self._close_oldest(oldest))
        # Emits made inside this handler would overtake the CONNECT packet: do them afterwards.
        invisible = principal.user.get("status") == "offline"  # chosen: others see offline
        self._spawn(self._after_connect(sid, user_id, room_ids, invisible))
        # A timer, not a task per socket: an idle socket costs one heap entry until it expires.
        delay = max(0.0, principal.expires_at - time.time())
        self._expiry[sid] = asyncio.get_running_loop().call_later(
            delay, lambda: self._spawn(self._expire(sid))
        )
        return True

    def sockets_by_transport(self) -> dict[tuple[str, ...], float]:
        """Connected (authenticated) sockets by transport, counted when /metrics is scraped."""
        counts = {("websocket",): 0.0, ("polling",): 0.0}
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
        mine = self._sockets_of.get(user_id or "")
        if mine is not None:
            mine.pop(sid, None)
            if not mine:
                del self._sockets_of[user_id]
        if user_id is not None:
            try:
                await self.services.presence.disconnected(user_id, sid)
            except ChatError as exc:
                log.warning("presence update on disconnect failed: %s", exc.message)

    async def drain(self, within: float) -> None:
        """Shutdown, step 1: take no new events and let those in flight finish (and ack)."""
        self.draining = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within)

    async def close(self) -> None:
        for handle in self._expiry.values():
            handle.cancel()
        for task in self._tasks:
            task.cancel()
        self._expiry.clear()

    # -- events ---------------------------------------------------------------------------------

    async def join_room(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.JoinPayload(), payload)
        room = await self.services.rooms.join(
            state["user_id"], data["roomId"], data.get("inviteCode")
        )
        return {"room": room}

    async def leave_room(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.RoomRef(), payload)
        await self.services.rooms.leave(state["user_id"], data["roomId"])
        return {}

    async def send_message(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.SendPayload(), payload)
        message, _ = await self.services.messages.send(
            state["user_id"],
            data["roomId"],
            data["text"],
            client_id=data.get("clientId"),
            reply_to=data.get("replyTo"),
            # Joins, leaves and kicks move every socket of the user in or out of the room's
            # channel on every node: a subscribed socket is a member's, no query needed.
            member_known=room_channel(data["roomId"]) in self.rooms(state["sid"]),
        )
        return {"message": message}

    async def edit_message(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.EditPayload(), payload)
        message = await self.services.messages.edit(
            state["user_id"], data["messageId"], data["text"]
        )
        return {"message": message}

    async def delete_message(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.MessageRef(), payload)
        await self.services.messages.delete(state["user_id"], data["messageId"])
        return {}

    async def react_message(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.ReactPayload(), payload)
        reactions = await self.services.messages.react(
            state["user_id"], data["messageId"], data["emoji"]
        )
        return {"reactions": reactions}

    async def typing_start(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.RoomRef(), payload)
        await self.services.typing.start(state["user_id"], state["name"], data["roomId"])
        return {}

    async def typing_stop(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.RoomRef(), payload)
        await self.services.typing.stop(state["user_id"], data["roomId"], name=state["name"])
        return {}

    async def message_read(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.SeqPayload(), payload)
        seq = await self.services.messages.mark(
            state["user_id"], data["roomId"], data["seq"], "lastReadSeq"
        )
        return {"lastReadSeq": seq}

    async def message_delivered(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.SeqPayload(), payload)
        await self.services.messages.mark(
            state["user_id"], data["roomId"], data["seq"], "lastDeliveredSeq"
        )
        return {}

    async def get_history(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.HistoryPayload(), payload)
        messages, more = await self.services.messages.history(
            state["user_id"],
            data["roomId"],
            before=data.get("before"),
            after=data.get("after"),
            limit=data["limit"],
        )
        return {"messages": messages, "hasMore": more}

    async def sync(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.SyncPayload(), payload)
        cursors = data["rooms"]
        if any(isinstance(c, dict) for c in cursors.values()):  # the change-cursor form
            return await self.services.catch_up.sync(state["user_id"], cursors)
        return {"rooms": await self.services.messages.sync(state["user_id"], cursors)}

    async def user_status(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.StatusPayload(), payload)
        await self.services.users.set_status(state["user_id"], data["status"])
        return {}

    async def room_presence(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.RoomPresencePayload(), payload)
        online, count = await self.services.presence.room_online(
            state["user_id"], data["roomId"], data["limit"]
        )
        return {"roomId": data["roomId"], "userIds": online, "onlineCount": count}

    async def presence_subscribe(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.PresenceSubscribePayload(), payload)
        sid = state["sid"]
        wanted = {presence_channel(u) for u in data["userIds"]}
        # self.leave_room is the leave-room event here: go to the server for channels.
        for channel in self.rooms(sid):
            if channel.startswith(presence_channel("")) and channel not in wanted:
                await self.server.leave_room(sid, channel, namespace=NAMESPACE)
        for channel in wanted:
            await self.server.enter_room(sid, channel, namespace=NAMESPACE)
        return {"userIds": sorted(await self.services.presence.online(data["userIds"]))}

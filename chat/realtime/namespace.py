"""The Socket.IO namespace `/`: dispatches hyphenated events to thin handlers.

`trigger_event` is the one place socket errors become `{ok: false, error}` acks: every event gets
an answer, and a bad payload never closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from chat import schemas
from chat.errors import ChatError, NotFound, Unavailable, ValidationFailed
from chat.metrics import ACK_SECONDS, SOCKET_EVENTS
from chat.realtime.channels import (
    presence_channel,
    room_channel,
)
from chat.realtime.connections import Connections
from chat.realtime.managers import NAMESPACE
from chat.realtime.publisher import SocketPublisher
from chat.services.container import Services
from config.settings import Settings

log = logging.getLogger("chat.realtime")

State = dict[str, Any]
Handler = Callable[[State, Any], Awaitable[dict[str, Any] | None]]


class ChatNamespace(Connections):
    """Connections (chat/realtime/connections.py) plus the events clients send."""

    def __init__(self, services: Services, settings: Settings, publisher: SocketPublisher) -> None:
        super().__init__(services, settings)
        # Each event is handled acting for its socket, so `echo=False` skips that socket.
        self.publisher = publisher
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
            "get-thread": self.get_thread,
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
        self._inflight += 1
        self._idle.clear()
        try:
            with self.publisher.acting_for(sid):
                return await self._handle(sid, event, payloads)
        finally:
            self._inflight -= 1
            if not self._inflight:
                self._idle.set()

    async def _handle(self, sid: str, event: Any, payloads: tuple[Any, ...]) -> dict[str, Any]:
        """One event: its handler's result as the ack, or the error it raised; its metrics."""
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

    async def drain(self, within: float) -> None:
        """Shutdown, step 1: take no new events and let those in flight finish (and ack)."""
        self.draining = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within)

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
            mentions=data.get("mentions"),
            thread_id=data.get("threadId"),
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
        seq = await self.services.receipts.mark_read(state["user_id"], data["roomId"], data["seq"])
        return {"lastReadSeq": seq}

    async def message_delivered(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.SeqPayload(), payload)
        await self.services.receipts.mark_delivered(state["user_id"], data["roomId"], data["seq"])
        return {}

    async def get_history(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.HistoryPayload(), payload)
        messages, more = await self.services.history.page(
            state["user_id"],
            data["roomId"],
            before=data.get("before"),
            after=data.get("after"),
            limit=data["limit"],
        )
        return {"messages": messages, "hasMore": more}

    async def get_thread(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.ThreadPayload(), payload)
        page = await self.services.threads.page(
            state["user_id"], data["messageId"], data["after"], data["limit"]
        )
        return dict(page)

    async def sync(self, state: State, payload: Any) -> dict[str, Any]:
        data = schemas.load(schemas.SyncPayload(), payload)
        cursors = data["rooms"]
        if any(isinstance(c, dict) for c in cursors.values()):  # the change-cursor form
            return await self.services.catch_up.sync(state["user_id"], cursors)
        return {"rooms": await self.services.history.sync(state["user_id"], cursors)}

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

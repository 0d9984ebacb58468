"""Turns service events (event, payload, audience) into Socket.IO emits on channels."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

import socketio

from chat.realtime.channels import room_channel, session_channel, user_channel
from chat.services.events import Audience

NAMESPACE = "/"

# The socket whose event is being handled, so `echo=False` can skip it. Unset for REST requests.
origin_sid: ContextVar[str | None] = ContextVar("origin_sid", default=None)


class SocketPublisher:
    def __init__(self, sio: socketio.AsyncServer):
        self.sio = sio

    async def publish(
        self, event: str, payload: dict[str, Any], audience: Audience, *, echo: bool = True
    ) -> None:
        channels = [room_channel(r) for r in audience.rooms] + [
            user_channel(u) for u in audience.users
        ]
        if not channels:
            return
        skip: list[str] = [sid for u in audience.skip_users for sid in self._sids(user_channel(u))]
        origin = origin_sid.get()
        if not echo and origin is not None:
            skip.append(origin)
        # One emit for all channels: the manager encodes once and reaches each socket once.
        await self.sio.emit(event, payload, to=channels, skip_sid=skip or None, namespace=NAMESPACE)

    def _sids(self, channel: str) -> list[str]:
        return [sid for sid, _ in self.sio.manager.get_participants(NAMESPACE, channel)]

    async def subscribe(self, user_id: str, room_id: str) -> None:
        for sid in self._sids(user_channel(user_id)):
            await self.sio.enter_room(sid, room_channel(room_id), namespace=NAMESPACE)

    async def unsubscribe(self, user_id: str, room_id: str) -> None:
        for sid in self._sids(user_channel(user_id)):
            await self.sio.leave_room(sid, room_channel(room_id), namespace=NAMESPACE)

    async def end_sessions(self, session_ids: Iterable[str], reason: str) -> None:
        for session_id in session_ids:
            for sid in self._sids(session_channel(session_id)):
                await self.sio.emit(
                    "session-expired", {"reason": reason}, to=sid, namespace=NAMESPACE
                )
                await self.sio.disconnect(sid, namespace=NAMESPACE)

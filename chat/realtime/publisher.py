"""Turns service events (event, payload, audience) into Socket.IO emits on channels."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

import socketio

from chat.realtime.channels import presence_channel, room_channel, user_channel
from chat.realtime.managers import NAMESPACE, SKIP_PREFIX, ChatManager
from chat.services.events import Audience

# The socket whose event is being handled, so `echo=False` can skip it. Set only through
# SocketPublisher.acting_for (by the namespace's dispatch); unset for REST requests.
_origin_sid: ContextVar[str | None] = ContextVar("origin_sid", default=None)


class SocketPublisher:
    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio
        self.manager: ChatManager = sio.manager

    @contextmanager
    def acting_for(self, sid: str) -> Iterator[None]:
        """While a socket's event is handled: what services publish meanwhile is on its behalf."""
        token = _origin_sid.set(sid)
        try:
            yield
        finally:
            _origin_sid.reset(token)

    def origin(self) -> str | None:
        return _origin_sid.get()

    async def publish(
        self,
        event: str,
        payload: Mapping[str, object],
        audience: Audience,
        *,
        echo: bool = True,
        origin: str | None = None,
    ) -> None:
        channels = [
            *(room_channel(r) for r in audience.rooms),
            *(user_channel(u) for u in audience.users),
            *(presence_channel(u) for u in audience.watchers_of),
        ]
        if not channels:
            return
        # Skip markers are resolved by the manager on each node, against its own sockets.
        skip: list[str] = [SKIP_PREFIX + user_channel(u) for u in audience.skip_users]
        origin = origin or _origin_sid.get()
        if not echo and origin is not None:
            skip.append(origin)
        # One emit for all channels: the manager encodes once and reaches each socket once.
        await self.sio.emit(event, payload, to=channels, skip_sid=skip or None, namespace=NAMESPACE)

    async def subscribe(self, user_id: str, room_id: str) -> None:
        await self.manager.control("subscribe", user_id=user_id, room_id=room_id)

    async def unsubscribe(self, user_id: str, room_id: str) -> None:
        await self.manager.control("unsubscribe", user_id=user_id, room_id=room_id)

    async def end_sessions(self, session_ids: Iterable[str], reason: str) -> None:
        ids = list(session_ids)
        if ids:
            await self.manager.control("end_sessions", session_ids=ids, reason=reason)

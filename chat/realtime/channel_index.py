"""Which channels each socket is in, so a disconnect costs its own channels, not all of them.

python-socketio's manager finds a socket's rooms by testing every room of the namespace
(`basic_disconnect`, `get_rooms`): with N sockets there are at least 3N channels (its sid, its
user, its session), so N disconnects cost O(N²). At 5,000 sockets that made a shutdown take over
30 s and kept a server busy for minutes after a reconnect storm.
"""

from __future__ import annotations

from typing import Any

from socketio.base_manager import BaseManager


class IndexedRooms(BaseManager):
    """A mixin over python-socketio's manager: a reverse index from socket to channels."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._channels_of: dict[tuple[str, str], set[Any]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._channels_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        channels = self._channels_of.get((namespace, sid))
        if channels is not None:
            channels.discard(room)
            if not channels:
                del self._channels_of[(namespace, sid)]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [r for r in self._channels_of.get((namespace, sid), ()) if r is not None]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        # What BaseManager.basic_disconnect does, with the room scan replaced by the index.
        for room in self._channels_of.pop((namespace, sid), ()):
            BaseManager.basic_leave_room(self, sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]

"""The python-socketio server: refuses binary packets, and cuts off sockets that stop reading."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import socketio

log = logging.getLogger("chat.realtime")

# Socket.IO packet types 5 (BINARY_EVENT) and 6 (BINARY_ACK) announce attachments to follow.
_BINARY_TYPES = ("5", "6")


class ChatServer(socketio.AsyncServer):
    """AsyncServer that disconnects a client announcing binary attachments (files go over REST)
    and, through `watch_queues`, any client whose outgoing queue backs up past a bound."""

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if isinstance(data, bytes) or (isinstance(data, str) and data[:1] in _BINARY_TYPES):
            log.warning("binary packet refused; disconnecting", extra={"eio_sid": eio_sid})
            await self.eio.disconnect(eio_sid)
            return
        await super()._handle_eio_message(eio_sid, data)

    async def watch_queues(self, max_packets: int, every: float = 0.5) -> None:
        """Forever: drop any connection with more than `max_packets` packets waiting to go out."""
        while True:
            await asyncio.sleep(every)
            for eio_sid, sock in list(self.eio.sockets.items()):
                if sock.closed or sock.queue.qsize() <= max_packets:
                    continue
                log.warning(
                    "outgoing queue over %d packets: disconnecting a client that stopped reading",
                    max_packets,
                    extra={"eio_sid": eio_sid},
                )
                # abort: no goodbye packet, since it would only queue behind the backlog.
                await sock.close(wait=False, abort=True)
                while not sock.queue.empty():  # free the backlog now
                    sock.queue.get_nowait()
                    sock.queue.task_done()
                with contextlib.suppress(asyncio.QueueFull):
                    sock.queue.put_nowait(None)  # lets the writer task end
                self.eio.sockets.pop(eio_sid, None)

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
GOODBYE_PAUSE = 0.2


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

    async def say_goodbye(self) -> None:
        """Shutdown, step 2: tell every socket and close it at the Engine.IO level.

        Not a Socket.IO DISCONNECT: after one of those socket.io-client does not reconnect, while
        after a closed transport it does, to another node or to this one restarted.
        """
        sockets = list(self.eio.sockets.items())
        for eio_sid, _ in sockets:
            sid = self.manager.sid_from_eio_sid(eio_sid, "/")
            if sid is not None:
                with contextlib.suppress(Exception):  # a socket closing meanwhile is fine
                    await self.emit(
                        "server-shutdown", {"reconnect": True}, to=sid, ignore_queue=True
                    )
        # A moment to act on the notice: clients that handle events in tasks (python-socketio's
        # does) lost it when the close followed at once (2-4 of 200 in the shutdown test).
        await asyncio.sleep(GOODBYE_PAUSE)
        await asyncio.gather(
            *(self._close_transport(sock) for _, sock in sockets if not sock.closed),
            return_exceptions=True,
        )

    @staticmethod
    async def _close_transport(sock: Any, within: float = 2.0) -> None:
        # Queue the Engine.IO CLOSE packet and wait for it to go out, but not for a client that
        # has stopped reading or polling.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sock.close(wait=True), within)
        if sock.upgraded:
            # engineio's websocket writer ends (and closes the websocket) only on a None;
            # without it aiohttp would wait out its whole shutdown timeout for the handler.
            sock.queue.put_nowait(None)

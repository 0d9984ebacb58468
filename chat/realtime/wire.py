"""Direct websocket writes: a broadcast frames its packet once and writes it to each transport."""

from __future__ import annotations

import struct
from typing import Any

from aiohttp.web import WebSocketResponse
from engineio.async_drivers.aiohttp import WebSocket

# Above this many bytes waiting in a connection's write buffer, packets for it take Engine.IO's
# queue (whose writer waits for the buffer to drain), so the queue, not memory, holds a backlog
# and `ChatServer.watch_queues` sees it. The size of uvloop's and asyncio's own high-water mark.
HIGH_WATER = 64 * 1024

_TEXT = 0x81  # FIN + text opcode; a server's frames are never masked (RFC 6455 5.1)
_LEN16 = struct.Struct("!BBH").pack
_LEN64 = struct.Struct("!BBQ").pack


def text_frame(text: str) -> bytes:
    """One complete, unmasked, uncompressed websocket text frame carrying `text`."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        return bytes((_TEXT, size)) + payload
    if size < 65536:
        return _LEN16(_TEXT, 126, size) + payload
    return _LEN64(_TEXT, 127, size) + payload


class WireSocket(WebSocket):
    """engineio's aiohttp websocket, without per-message deflate, that a broadcast can write to.

    Registered on its Engine.IO socket as `wire` while the websocket is open. Every packet that
    goes through the Engine.IO queue still reaches the client through `send` (engineio's writer
    task); `write_now` is the other way in, and is refused whenever a packet sent earlier could
    still be on its way through the queue.
    """

    def __init__(self, handler: Any, server: Any):
        super().__init__(handler, server)
        # engineio hands over its socket's bound `_websocket_handler`.
        self.socket = getattr(handler, "__self__", None)
        self.transport: Any = None
        # True while engineio's writer waits in `send` for the buffer to drain: it may be holding
        # more packets it has already taken off the queue.
        self.holding = False

    async def __call__(self, environ: dict[str, Any]) -> WebSocketResponse:
        request = environ["aiohttp.request"]
        # Compression off (as in Node's socket.io): a frame compressed with one connection's
        # deflate context cannot be shared, and zlib per recipient costs more than the write.
        self._sock = WebSocketResponse(
            max_msg_size=self.server.max_http_buffer_size, compress=False
        )
        await self._sock.prepare(request)
        self.environ = environ
        self.transport = request.transport
        if self.socket is not None:
            self.socket.wire = self
        try:
            await self.handler(self)
        finally:
            if self.socket is not None and getattr(self.socket, "wire", None) is self:
                self.socket.wire = None
            self.transport = None
        return self._sock

    async def send(self, message: str | bytes) -> None:
        """engineio's writer: a packet that went through the queue."""
        self.holding = True
        try:
            # aiohttp waits here when the connection's buffer is full.
            if isinstance(message, bytes):
                await self._sock.send_bytes(message)
            else:
                await self._sock.send_str(message)
        finally:
            self.holding = False

    def write_now(self, frame: bytes) -> bool:
        """Write `frame` now if nothing sent earlier to this socket is still queued; else False.

        Packets put on the Engine.IO queue count in its unfinished tasks until engineio's writer
        task has taken them off (it calls task_done right after, then writes the whole batch with
        no pause unless `send` waits, which `holding` covers). A queue.get done for the writer
        by `asyncio.wait_for` in its own task (Python 3.11) has taken the packet off but not yet
        called task_done, so the count covers that moment too; `qsize()` would not.
        """
        sock = self.socket
        if (
            sock is None
            or self.holding
            or sock.queue._unfinished_tasks
            or not sock.upgraded
            or sock.upgrading
            or sock.closing
            or self._sock.closed
        ):
            return False
        transport = self.transport
        if (
            transport is None
            or transport.is_closing()
            or transport.get_write_buffer_size() > HIGH_WATER
        ):
            return False
        transport.write(frame)
        return True


def install(eio_server: Any) -> None:
    """Make this Engine.IO server's websockets WireSockets (its own copy of the driver table)."""
    # `write_now` reads the queue's private count of unfinished tasks: on a Python without it,
    # every packet keeps to the queue rather than risk overtaking one.
    if not hasattr(eio_server.create_queue(), "_unfinished_tasks"):
        return
    if eio_server._async.get("websocket") is WebSocket:
        eio_server._async = {**eio_server._async, "websocket": WireSocket}


def drop_connection(sock: Any) -> None:
    """Close a cut-off socket's connection at once, unsent data and all.

    engineio's writer may be waiting for the buffer of a client that no longer reads to drain;
    aborting the transport ends that wait, the websocket handler and the buffered bytes.
    """
    wire = getattr(sock, "wire", None)
    if wire is not None and wire.transport is not None:
        wire.transport.abort()

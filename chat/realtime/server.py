"""The python-socketio server: refuses binary and junk packets, cuts off sockets that stop reading."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from typing import Any

import socketio
from socketio import packet

from chat.errors import RateLimited, ValidationFailed
from chat.kit.tasks import TaskSet
from chat.metrics import EVENTS_SHED

log = logging.getLogger("chat.realtime")

# Socket.IO packet types 5 (BINARY_EVENT) and 6 (BINARY_ACK) announce attachments to follow.
_BINARY_TYPES = ("5", "6")
GOODBYE_PAUSE = 0.2
# No payload of the contract nests deeper than this; deeper JSON is junk, not a request.
MAX_JSON_DEPTH = 32
# Malformed packets a connection may send before it is closed (a buggy client sends one or two).
JUNK_LIMIT = 10


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether decoded JSON nests containers more than `limit` levels deep (iterative: no stack)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in item if isinstance(child, dict | list))
    return False


class ChatServer(socketio.AsyncServer):
    """AsyncServer that disconnects a client announcing binary attachments (files go over REST)
    and, through `watch_queues`, any client whose outgoing queue backs up past a bound.

    Events from one socket (and its CONNECT and DISCONNECT) wait in that socket's inbox and are
    handled one at a time, in order, by a worker that exists only while the inbox is not empty.
    The transport's read loop only appends, so it keeps reading: heartbeats are never starved
    behind slow handlers, and a client that gives up mid-handshake is seen to be gone. An event
    that arrives when `event_limit` wait already, or when the oldest has waited `event_wait`
    seconds, is answered at once with RATE_LIMITED: overload is shed, not queued without end.
    """

    def __init__(self, *args: Any, event_limit: int = 1000, event_wait: float = 2.5, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.event_limit = event_limit
        self.event_wait = event_wait
        self._inboxes: dict[str, deque[tuple[float, int, Any, Any, Any]]] = {}
        self._workers = TaskSet()  # one per non-empty inbox
        self.refused_events = 0
        self._junk: dict[str, int] = {}  # malformed packets seen, per Engine.IO connection
        self.junk_packets = 0

    def _inbox(self, eio_sid: str) -> deque[tuple[float, int, Any, Any, Any]]:
        inbox = self._inboxes.get(eio_sid)
        if inbox is None:
            inbox = self._inboxes[eio_sid] = deque()
            self._workers.spawn(self._drain_inbox(eio_sid, inbox))
        return inbox

    async def _handle_connect(self, eio_sid: str, namespace: Any, data: Any) -> None:
        # Queued too: authenticating waits for the database, and while it waits the read loop
        # must go on, or a client that gave up (a reconnect storm) is never seen to be gone and
        # its handshake is worked through for nobody.
        self._inbox(eio_sid).append((time.monotonic(), packet.CONNECT, namespace, None, data))

    async def _handle_client_disconnect(self, eio_sid: str, namespace: Any) -> None:
        # After the events sent before it, as when they were handled inline.
        self._inbox(eio_sid).append((time.monotonic(), packet.DISCONNECT, namespace, None, None))

    async def _handle_event(self, eio_sid: str, namespace: Any, id: Any, data: Any) -> None:
        inbox = self._inbox(eio_sid)
        now = time.monotonic()
        if len(inbox) >= self.event_limit or (inbox and now - inbox[0][0] > self.event_wait):
            await self._refuse(eio_sid, namespace, id)
            return
        inbox.append((now, packet.EVENT, namespace, id, data))

    async def _drain_inbox(
        self, eio_sid: str, inbox: deque[tuple[float, int, Any, Any, Any]]
    ) -> None:
        try:
            while inbox:
                _, kind, namespace, id, data = inbox[0]
                try:
                    if kind == packet.EVENT:
                        await super()._handle_event(eio_sid, namespace, id, data)
                    elif kind == packet.DISCONNECT:
                        reason = self.reason.CLIENT_DISCONNECT
                        await self._handle_disconnect(eio_sid, namespace, reason)
                    elif eio_sid in self.environ:  # CONNECT, from a transport still open
                        await super()._handle_connect(eio_sid, namespace, data)
                finally:
                    inbox.popleft()  # only now, so the bound counts the event being handled
        finally:
            self._inboxes.pop(eio_sid, None)

    async def _refuse(self, eio_sid: str, namespace: Any, id: Any) -> None:
        self.refused_events += 1
        EVENTS_SHED.inc()
        if id is None:
            return  # no ack asked for: nothing to answer
        error = RateLimited(
            math.ceil(self.event_wait), "Too many events waiting on this connection: slow down"
        )
        ack = {"ok": False, "error": error.to_dict()}
        await self._send_packet(
            eio_sid, self.packet_class(packet.ACK, namespace=namespace or "/", id=id, data=[ack])
        )

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if isinstance(data, bytes) or (isinstance(data, str) and data[:1] in _BINARY_TYPES):
            log.warning("binary packet refused; disconnecting", extra={"eio_sid": eio_sid})
            await self.eio.disconnect(eio_sid)
            return
        # Decoded here, once, so that malformed input (bad JSON, nesting past the interpreter's
        # recursion limit, an event that is not [name, ...]) is the client's fault: dropped and
        # counted, never an engineio "async handler error" with a traceback per packet.
        try:
            pkt = self.packet_class(encoded_packet=data)
        except (ValueError, TypeError, RecursionError):
            await self._junk_packet(eio_sid, "undecodable packet")
            return
        kind = pkt.packet_type
        if kind == packet.CONNECT:
            await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif kind == packet.DISCONNECT:
            await self._handle_client_disconnect(eio_sid, pkt.namespace)
        elif kind == packet.EVENT:
            if not (isinstance(pkt.data, list) and pkt.data and isinstance(pkt.data[0], str)):
                await self._junk_packet(eio_sid, "event is not [name, ...payload]", pkt)
            elif too_deep(pkt.data):
                await self._junk_packet(eio_sid, f"JSON nested over {MAX_JSON_DEPTH} levels", pkt)
            else:
                await self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)
        elif kind == packet.ACK:
            if isinstance(pkt.data, list) and not too_deep(pkt.data):
                await self._handle_ack(eio_sid, pkt.namespace, pkt.id, pkt.data)
            else:
                await self._junk_packet(eio_sid, "malformed ack")
        else:
            await self._junk_packet(eio_sid, "unknown packet type")

    async def _junk_packet(self, eio_sid: str, why: str, pkt: Any = None) -> None:
        """Answer (when an ack was asked for) or drop a malformed packet; log once per connection
        at most, as a warning; close the connection once it has sent `JUNK_LIMIT` of them."""
        self.junk_packets += 1
        seen = self._junk[eio_sid] = self._junk.get(eio_sid, 0) + 1
        if seen == 1:
            log.warning("malformed Socket.IO packet (%s); later ones go unlogged", why,
                        extra={"eio_sid": eio_sid})  # fmt: skip
        if seen >= JUNK_LIMIT:
            log.warning("closing a connection after %d malformed packets", seen,
                        extra={"eio_sid": eio_sid})  # fmt: skip
            self._junk.pop(eio_sid, None)
            await self.eio.disconnect(eio_sid)
            return
        namespace = getattr(pkt, "namespace", None) or "/"
        if (
            pkt is not None
            and pkt.id is not None
            and self.manager.sid_from_eio_sid(eio_sid, namespace)
        ):
            error = ValidationFailed(f"Malformed packet: {why}")
            ack = {"ok": False, "error": error.to_dict()}
            await self._send_packet(
                eio_sid, self.packet_class(packet.ACK, namespace=namespace, id=pkt.id, data=[ack])
            )

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        self._junk.pop(eio_sid, None)
        await super()._handle_eio_disconnect(eio_sid, reason)

    async def watch_queues(self, max_packets: int, every: float = 0.5) -> None:
        """Forever: drop any connection with more than `max_packets` packets waiting to go out.

        Bytes need no bound of their own: broadcasts write to a websocket directly only while its
        write buffer is under `wire.HIGH_WATER`, and the queue's writer waits for it to drain, so
        a client that stops reading fills the queue after at most about 128 KB.
        """
        from chat.realtime.wire import drop_connection

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
                drop_connection(sock)
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

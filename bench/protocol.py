"""A lean Engine.IO v4 / Socket.IO v5 client over aiohttp websockets, for load generation.

python-socketio's client costs far more CPU per connection than the server spends on it; this one
does only what a benchmark needs: authenticate, answer pings, emit with acks, count events.

Every wait is bounded: `connect` by `timeout`, `call` by `timeout`; when the websocket closes,
every pending ack fails at once with `ConnectionError` (and later calls fail immediately).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp

EventHandler = Callable[[str, Any], None]

CONNECT_TIMEOUT = 20.0  # socket.io-client's default `timeout` for a connection attempt
ACK_TIMEOUT = 30.0


class LeanSocket:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        token: str,
        on_event: EventHandler,
        on_close: Callable[[LeanSocket], None] | None = None,
    ):
        self.session = session
        self.url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.token = token
        self.on_event = on_event
        self.on_close = on_close
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._acks: dict[int, asyncio.Future] = {}
        self._next_id = 0
        self._reader: asyncio.Task | None = None
        self.connected = False
        self.close_reason: str | None = None

    @property
    def pending_acks(self) -> int:
        return len(self._acks)

    async def connect(self, within: float = CONNECT_TIMEOUT) -> None:
        """Open the websocket, Engine.IO open, Socket.IO CONNECT; at most `within` seconds."""
        self.connected = False
        self.close_reason = None
        try:
            async with asyncio.timeout(within):
                await self._handshake()
        except BaseException:
            await self._drop_ws()
            raise
        self.connected = True
        self._reader = asyncio.create_task(self._read())

    async def _handshake(self) -> None:
        self.ws = await self.session.ws_connect(
            self.url, max_msg_size=0, autoping=False, timeout=aiohttp.ClientWSTimeout(ws_close=2)
        )
        opening = await self.ws.receive()
        if not isinstance(opening.data, str) or not opening.data.startswith("0"):
            raise ConnectionError(f"unexpected open packet: {opening.data!r}")
        await self.ws.send_str("40" + json.dumps({"token": self.token}))
        early: list[str] = []
        while True:
            reply = await self.ws.receive()
            if reply.data == "2":  # a ping before CONNECT: answer and keep waiting
                await self.ws.send_str("3")
            elif isinstance(reply.data, str) and reply.data.startswith("42"):
                early.append(reply.data)  # an event that overtook CONNECT: deliver it after
            else:
                break
        if not isinstance(reply.data, str) or not reply.data.startswith("40"):
            raise ConnectionError(f"connect refused: {str(reply.data)[:200]!r}")
        for data in early:
            name, payload = json.loads(data[2:])
            self.on_event(name, payload)

    async def _read(self) -> None:
        ws = self.ws
        assert ws is not None
        reason = "closed by server"
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    reason = f"websocket {msg.type.name}"
                    break
                data: str = msg.data
                kind = data[:1]
                if kind == "2":  # ping
                    await ws.send_str("3")
                elif data.startswith("42"):
                    name, payload = json.loads(data[2:])
                    self.on_event(name, payload)
                elif data.startswith("43"):
                    bracket = data.index("[")
                    future = self._acks.pop(int(data[2:bracket]), None)
                    if future is not None and not future.done():
                        future.set_result(json.loads(data[bracket:])[0])
                elif kind == "1" or data.startswith("41"):
                    reason = "disconnect packet"
                    break
        except asyncio.CancelledError:
            reason = "closed by client"
            raise
        except Exception as exc:  # any reader failure is a closed connection
            reason = f"reader failed: {exc!r}"
        finally:
            self._closed(reason)

    def _closed(self, reason: str) -> None:
        if not self.connected:
            return
        self.connected = False
        self.close_reason = reason
        acks, self._acks = self._acks, {}
        for future in acks.values():
            if not future.done():
                future.set_exception(ConnectionError(f"connection lost: {reason}"))
        if self.on_close is not None:
            self.on_close(self)

    async def call(self, event: str, payload: Any, within: float = ACK_TIMEOUT) -> Any:
        """Emit with an ack and wait for it, at most `within` seconds.

        Raises ConnectionError at once if the connection is (or gets) closed, TimeoutError if
        the ack does not come in time.
        """
        if not self.connected or self.ws is None or self.ws.closed:
            raise ConnectionError(f"not connected: {self.close_reason or 'never connected'}")
        ack_id = self._next_id
        self._next_id += 1
        future = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        try:
            async with asyncio.timeout(within):
                await self.ws.send_str(f"42{ack_id}" + json.dumps([event, payload]))
                return await future
        finally:
            self._acks.pop(ack_id, None)

    async def _drop_ws(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await ws.close()

    async def close(self, within: float = 2) -> None:
        """Close (bounded by `within` seconds): the reader stops, pending acks fail."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
        self._closed("closed by client")
        ws, self.ws = self.ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(within):
                    await ws.close()


async def close_all(sockets: Iterable[LeanSocket], within: float = 5) -> None:
    """Close many sockets at once, all within about `within` seconds."""
    await asyncio.gather(*(s.close(within) for s in sockets), return_exceptions=True)


def now_ms() -> float:
    """Wall clock in ms: sender and receivers share the machine, so one clock serves both."""
    return time.time() * 1000

"""A lean Engine.IO v4 / Socket.IO v5 client over aiohttp websockets, for load generation.

python-socketio's client costs far more CPU per connection than the server spends on it; this one
does only what a benchmark needs: authenticate, answer pings, emit with acks, count events.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

EventHandler = Callable[[str, Any], None]


class LeanSocket:
    def __init__(
        self, session: aiohttp.ClientSession, url: str, token: str, on_event: EventHandler
    ):
        self.session = session
        self.url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.token = token
        self.on_event = on_event
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._acks: dict[int, asyncio.Future] = {}
        self._next_id = 0
        self._reader: asyncio.Task | None = None

    async def connect(self) -> None:
        self.ws = await self.session.ws_connect(self.url, max_msg_size=0, autoping=False)
        opening = await self.ws.receive()
        if not isinstance(opening.data, str) or not opening.data.startswith("0"):
            raise ConnectionError(f"unexpected open packet: {opening.data!r}")
        await self.ws.send_str("40" + json.dumps({"token": self.token}))
        reply = await self.ws.receive()
        if not isinstance(reply.data, str) or not reply.data.startswith("40"):
            raise ConnectionError(f"connect refused: {reply.data!r}")
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data: str = msg.data
            kind = data[:1]
            if kind == "2":  # ping
                await self.ws.send_str("3")
            elif data.startswith("42"):
                name, payload = json.loads(data[2:])
                self.on_event(name, payload)
            elif data.startswith("43"):
                bracket = data.index("[")
                future = self._acks.pop(int(data[2:bracket]), None)
                if future is not None and not future.done():
                    future.set_result(json.loads(data[bracket:])[0])

    async def call(self, event: str, payload: Any) -> Any:
        """Emit with an ack and wait for it."""
        assert self.ws is not None
        ack_id = self._next_id
        self._next_id += 1
        future = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        await self.ws.send_str(f"42{ack_id}" + json.dumps([event, payload]))
        return await future

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()


def now_ms() -> float:
    """Wall clock in ms: sender and receivers share the machine, so one clock serves both."""
    return time.time() * 1000

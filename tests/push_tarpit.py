"""A hostile push service for the tests: one that never answers, or answers and then trickles."""

from __future__ import annotations

import asyncio
from collections import Counter


class Tarpit:
    """A hostile push service on its own origin: it reads a request and never answers (until
    the client gives up), or with `trickle` answers 201 at once and then sends its body a byte
    every half second. Counts connections: `open` now, `peak`, `closed` (the client hung up),
    and the body bytes `trickled` before it did; `peak_of[group]`, the most open at once for
    endpoints named `<group>-<anything>`."""

    def __init__(self, *, trickle: bool = False) -> None:
        self.trickle = trickle
        self.open = self.peak = self.closed = self.trickled = 0
        self.server: asyncio.Server | None = None
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._open_of: Counter[str] = Counter()
        self.peak_of: dict[str, int] = {}

    def endpoint(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/push/v2/{name}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for writer in self._writers:
                writer.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        self.peak = max(self.peak, self.open)
        self._writers.add(writer)
        group = ""
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            group = head.split(" ")[1].rsplit("/", 1)[-1].split("-")[0]
            self._open_of[group] += 1
            self.peak_of[group] = max(self.peak_of.get(group, 0), self._open_of[group])
            await reader.readexactly(_content_length(head))
            if self.trickle:
                writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 100000\r\n\r\n")
                while not reader.at_eof():
                    writer.write(b"x")
                    self.trickled += 1
                    await writer.drain()
                    await asyncio.sleep(0.5)
            else:
                await reader.read()  # until the client hangs up
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open -= 1
            self.closed += 1
            self._open_of[group] -= 1
            self._writers.discard(writer)
            writer.close()


def _content_length(head: str) -> int:
    for line in head.lower().split("\r\n"):
        if line.startswith("content-length:"):
            return int(line.split(":", 1)[1])
    return 0

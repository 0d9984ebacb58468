"""Helpers for tests that talk to a served app: REST users and real python-socketio clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import socketio
from aiohttp.test_utils import TestClient, TestServer

from tests.helpers import ORIGIN, User, register


@dataclass
class Peer:
    """A connected python-socketio client that records every event it receives."""

    sio: socketio.AsyncClient
    user: User | None = None
    events: list[tuple[str, Any]] = field(default_factory=list)

    def got(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]

    # Timeouts are bounds for a stuck test, not expectations: a busy machine (a test run beside
    # a build, one core taken) may be ten times slower and must still pass.
    async def call(self, event: str, *payload: Any, timeout: float = 60) -> Any:
        return (
            await self.sio.call(event, *payload, timeout=timeout)
            if payload
            else await self.sio.call(event, timeout=timeout)
        )

    async def wait_for(
        self, event: str, match: Callable[[Any], bool] = lambda _: True, timeout: float = 30
    ) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for data in self.got(event):
                if match(data):
                    return data
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {event!r} matching within {timeout}s; got {self.events[-10:]}")

    async def round_trip(self) -> None:
        """One request the server answers on this socket. A socket's events arrive in the order
        the server wrote them, so whatever was written to it before the server handled this
        request has been recorded when this returns: silence checked by progress, not by a
        sleep. (An unknown event: answered NOT_FOUND, with no effect.)"""
        ack = await self.call("round-trip", {})
        assert ack == {"ok": False, "error": {"code": "NOT_FOUND", "message": "Unknown event"}}

    async def close(self) -> None:
        if self.sio.connected and self.sio.transport() == "polling":
            # python-socketio's client would wait out its pending long-poll (up to 25 s).
            await self.sio.eio.disconnect(abort=True)
        elif self.sio.connected:
            await self.sio.disconnect()
        # A client the server disconnected keeps its HTTP session open: close it here.
        http = getattr(self.sio.eio, "http", None)
        if http is not None and not http.closed:
            await http.close()


def note_disconnect(peer: Peer) -> None:
    """Record the socket's disconnection among its events as `("disconnect", None)`, to see
    what came before it."""

    @peer.sio.on("disconnect")
    async def disconnected(*_: object) -> None:
        peer.events.append(("disconnect", None))


async def open_peer(
    url: str,
    user: User | None = None,
    *,
    auth: Any = None,
    headers: dict[str, str] | None = None,
    transports: list[str] | None = None,
) -> Peer:
    """Connect a recording python-socketio client to `url` (with the user's token by default)."""
    peer = Peer(socketio.AsyncClient(reconnection=False), user)

    @peer.sio.on("*")
    async def record(event: str, data: Any = None) -> None:
        peer.events.append((event, data))

    if auth is None and user is not None:
        auth = {"token": user.token}
    try:
        await peer.sio.connect(
            url,
            auth=auth,
            headers=headers or {},
            transports=transports or ["websocket"],
            wait_timeout=30,
        )
    except BaseException:
        await peer.close()  # a refused client still opened an HTTP session
        raise
    return peer


@dataclass
class Chat:
    """A served app, a REST client for it, and the sockets opened in a test."""

    server: TestServer
    rest: TestClient
    peers: list[Peer] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    async def user(self, name: str = "User") -> User:
        """A registered user; the REST client keeps no cookie, so each call says who it is."""
        user = await register(self.rest, name)
        self.rest.session.cookie_jar.clear()
        return user

    async def api(self, method: str, path: str, user: User, **kw: Any) -> tuple[int, Any]:
        resp = await self.rest.request(method, path, headers=user.auth, **kw)
        data = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, data

    async def socket(
        self,
        user: User | None = None,
        *,
        auth: Any = None,
        headers: dict[str, str] | None = None,
        transports: list[str] | None = None,
    ) -> Peer:
        peer = await open_peer(self.url, user, auth=auth, headers=headers, transports=transports)
        self.peers.append(peer)
        return peer

    async def room(self, owner: User, kind: str = "public", name: str = "Room") -> dict[str, Any]:
        status, body = await self.api(
            "POST", "/api/rooms", owner, json={"name": name, "type": kind}
        )
        assert status == 201, body
        return body["room"]

    async def join(self, user: User, room: dict[str, Any]) -> None:
        if room["type"] == "private":
            status, body = await self.api(
                "POST", "/api/rooms/join", user, json={"inviteCode": room["inviteCode"]}
            )
        else:
            status, body = await self.api("POST", f"/api/rooms/{room['id']}/join", user, json={})
        assert status == 200, body

    async def close(self) -> None:
        for peer in self.peers:
            await peer.close()


__all__ = ["ORIGIN", "Chat", "Peer", "User"]

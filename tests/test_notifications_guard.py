"""The guard on push endpoints at run time (chat/outbound), on by default in every environment:
a name that resolves to a loopback address is refused for good and its subscription dropped, a
redirect hop to a private address is refused, and PUSH_ALLOW_LOOPBACK opens loopback only."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from chat.api.keys import SERVICES
from chat.outbound.guard import PublicResolver, Refused, hop_guard
from chat.outbound.http import Outbound, Unreachable, refused
from chat.store.embedded import free_port
from tests.helpers import eventually
from tests.push_standin import Browser

WITHIN = 60


class Hops:
    """A loopback server: POST /push answers 201; POST /hop redirects (307) to `target`."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.seen: list[str] = []
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/push", self._push)
        app.router.add_post("/hop", self._hop)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def _push(self, request: web.Request) -> web.Response:
        self.seen.append(request.path)
        return web.Response(status=201)

    async def _hop(self, request: web.Request) -> web.Response:
        self.seen.append(request.path)
        return web.Response(status=307, headers={"Location": self.target})


@pytest.fixture
async def hops() -> AsyncIterator[Hops]:
    server = Hops("https://10.0.0.1/latest")
    await server.start()
    yield server
    assert server.runner is not None
    await server.runner.cleanup()


def _loopback_name() -> str:
    """This machine's name when it resolves to loopback addresses only (as in most containers'
    /etc/hosts): a DNS name the URL check cannot see through."""
    name = socket.gethostname()
    try:
        found = {a[4][0] for a in socket.getaddrinfo(name, 443, type=socket.SOCK_STREAM)}
    except OSError:
        found = set()
    if not found or not all(a.startswith("127.") or a == "::1" for a in found):
        pytest.skip(f"{name} does not resolve to loopback only ({found})")
    return name


async def test_the_resolver_keeps_public_addresses_and_loopback_only_when_allowed():
    with pytest.raises(Refused):
        await PublicResolver().resolve("localhost", 443, socket.AF_INET)
    opened = PublicResolver(allow_loopback=True)
    found = await opened.resolve("localhost", 443, socket.AF_INET)
    assert {r["host"] for r in found} == {"127.0.0.1"}


async def test_a_name_resolving_to_loopback_is_refused_for_good(hops):
    name = _loopback_name()
    async with (
        aiohttp.ClientSession() as plain,  # unguarded, the name reaches this server
        plain.post(f"http://{name}:{hops.port}/push") as resp,
    ):
        assert resp.status == 201
    for allow_loopback in (False, True):  # https to a name: the stand-in setting does not help
        http = Outbound(timeout=5, untrusted=True, allow_loopback=allow_loopback)
        try:
            with pytest.raises(Unreachable) as caught:
                await http.post(f"https://{name}:{hops.port}/push", b"x", {})
        finally:
            await http.close()
        assert caught.value.permanent is (not allow_loopback), caught.value
    assert hops.seen == ["/push"]


async def test_a_redirect_hop_to_a_private_address_is_refused(hops):
    url = f"http://127.0.0.1:{hops.port}/hop"
    guarded = (hop_guard(allow_loopback=True),)
    async with aiohttp.ClientSession(middlewares=guarded) as session:
        with pytest.raises(
            OSError, match=r"refused to call 10\.0\.0\.1: must be a public"
        ) as caught:
            await session.post(url, allow_redirects=True)
    assert refused(caught.value), caught.value  # aiohttp wraps it in a ClientOSError
    http = Outbound(timeout=5, untrusted=True, allow_loopback=True)
    try:
        assert await http.post(url, b"x", {}) == 307  # never followed
    finally:
        await http.close()
    assert hops.seen == ["/hop", "/hop"]
    http = Outbound(timeout=5, untrusted=True)  # the default: loopback is refused too, for good
    try:
        with pytest.raises(Unreachable) as unreachable:
            await http.post(url, b"x", {})
    finally:
        await http.close()
    assert unreachable.value.permanent, unreachable.value
    assert hops.seen == ["/hop", "/hop"]


async def test_a_push_to_a_name_resolving_to_loopback_fails_for_good_and_its_subscription_goes(
    chat, hops
):
    """Without PUSH_ALLOW_LOOPBACK (the default): not retried, and dropped after three."""
    name = _loopback_name()
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    browser = Browser(f"https://{name}:{hops.port}/push")
    status, body = await chat.api("POST", "/api/push/subscriptions", bob, json=browser.subscription)
    assert status == 201, body  # a name: the check at subscribe time cannot tell
    status, body = await chat.api("POST", "/api/rooms/direct", ann, json={"userId": bob.id})
    room_id = body["room"]["id"]
    notifications = chat.server.app[SERVICES].notifications
    store = notifications.store

    async def idle() -> bool:
        return notifications.idle

    for n in range(3):
        assert await store.push_subscriptions.of_user(bob.id) != []
        path = f"/api/rooms/{room_id}/messages"
        status, _ = await chat.api("POST", path, ann, json={"text": f"hello {n}"})
        assert status == 201
        assert await eventually(idle, within=WITHIN, every=0.05)
    assert await store.push_subscriptions.of_user(bob.id) == []
    assert hops.seen == []

"""Presence at scale: pushed only where cheap, on demand in big rooms, and no ghosts from
handshakes that were abandoned halfway."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import socket
import struct

import aiohttp
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from chat.api.keys import SERVICES, SOCKET_IO
from config.settings import Settings

ROOM_LIMIT = 3  # rooms above this many members are "big" here, as 100 is by default


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A short heartbeat: an Engine.IO session whose websocket upgrade was abandoned is reaped by
    # the ping timeout, and the test waits (bounded by count) for that.
    return dataclasses.replace(
        settings, presence_room_limit=ROOM_LIMIT, ping_interval=1, ping_timeout=2
    )


async def _big_room_with_a_direct_pair(chat):
    users = [await chat.user(name) for name in ("Ann", "Bob", "Cat", "Dan", "Eve")]
    room = await chat.room(users[0])
    for user in users[1:]:
        await chat.join(user, room)
    ann, bob = users[0], users[1]
    status, _ = await chat.api("POST", "/api/rooms/direct", ann, json={"userId": bob.id})
    assert status in (200, 201)
    return users, room


async def test_a_big_room_pushes_no_presence_to_its_members(chat):
    users, _ = await _big_room_with_a_direct_pair(chat)
    ann, bob, cat, dan, eve = users
    sockets = {}
    for user in users:  # one after another: each later one would hear all earlier ones
        sockets[user.name] = await chat.socket(user)
        await sockets[user.name].wait_for("online-users")
    await sockets["Ann"].wait_for("user-online", lambda d: d["userId"] == bob.id)
    # Counting deliveries: the old path sent 4+3+2+1 = 10 user-online in a room of 5 (N²/2).
    # Now only the direct pair hears each other: Ann hears Bob come online, nobody else hears.
    # Each announcement was written before its user's `online-users`, so one round trip per
    # socket bounds the check by progress.
    for peer in sockets.values():
        await peer.round_trip()
    delivered = {name: peer.got("user-online") for name, peer in sockets.items()}
    assert delivered == {"Ann": [{"userId": bob.id}], "Bob": [], "Cat": [], "Dan": [], "Eve": []}
    assert sockets["Bob"].got("online-users") == [{"userIds": [ann.id]}]
    assert sockets["Cat"].got("online-users") == [{"userIds": []}]

    await sockets["Eve"].close()
    await sockets["Ann"].close()
    offline = await sockets["Bob"].wait_for("user-offline", timeout=30)
    assert offline["userId"] == ann.id
    await asyncio.sleep(0.8)  # past the grace: Eve's offline is announced to nobody
    assert [p.got("user-offline") for n, p in sockets.items() if n in ("Cat", "Dan")] == [[], []]


async def test_room_presence_on_demand(chat):
    users, room = await _big_room_with_a_direct_pair(chat)
    ann, bob, cat, dan, eve = users
    peers = [await chat.socket(u) for u in (ann, bob, cat)]
    for peer in peers:
        await peer.wait_for("online-users")
    reply = await peers[2].call("room-presence", {"roomId": room["id"]})
    assert reply == {
        "ok": True,
        "roomId": room["id"],
        "userIds": sorted([ann.id, bob.id, cat.id]),
        "onlineCount": 3,
    }
    capped = await peers[2].call("room-presence", {"roomId": room["id"], "limit": 1})
    assert (len(capped["userIds"]), capped["onlineCount"]) == (1, 3)

    outsider = await chat.user("Out")
    private = await chat.room(ann, kind="private", name="secret")
    out = await chat.socket(outsider)
    refused = await out.call("room-presence", {"roomId": private["id"]})
    assert refused["ok"] is False and refused["error"]["code"] == "NOT_FOUND"
    for bad in ({}, {"roomId": "x"}, {"roomId": room["id"], "limit": 0}, [], "room"):
        answer = await out.call("room-presence", bad)
        assert answer["ok"] is False and answer["error"]["code"] == "VALIDATION_ERROR", bad
    assert out.sio.connected


async def test_presence_subscribe_follows_chosen_users(chat):
    users, _ = await _big_room_with_a_direct_pair(chat)
    ann, bob, cat, dan, eve = users
    c = await chat.socket(cat)
    e = await chat.socket(eve)
    d = await chat.socket(dan)
    reply = await c.call("presence-subscribe", {"userIds": [dan.id, ann.id]})
    assert reply == {"ok": True, "userIds": [dan.id]}  # Dan is online, Ann is not
    a = await chat.socket(ann)
    assert await c.wait_for("user-online", lambda x: x["userId"] == ann.id)
    await d.close()
    offline = await c.wait_for("user-offline", lambda x: x["userId"] == dan.id, timeout=30)
    assert offline["lastSeen"].endswith("Z")
    assert await a.call("user-status", {"status": "busy"}) == {"ok": True}
    await c.wait_for("user-status-update", lambda x: x == {"userId": ann.id, "status": "busy"})
    # Replacing the set drops the old subscriptions.
    assert (await c.call("presence-subscribe", {"userIds": []})) == {"ok": True, "userIds": []}
    assert await a.call("user-status", {"status": "away"}) == {"ok": True}
    await e.wait_for("online-users")
    await c.round_trip()  # the change was announced before Ann's ack: bounded by progress
    await e.round_trip()
    assert not c.got("user-status-update")[1:]
    assert e.got("user-online") == [] and e.got("user-status-update") == []

    too_many = await c.call("presence-subscribe", {"userIds": [ann.id] * 101})
    assert too_many["ok"] is False and too_many["error"]["code"] == "VALIDATION_ERROR"
    bad = await c.call("presence-subscribe", {"userIds": [{"$gt": ""}]})
    assert bad["ok"] is False and bad["error"]["code"] == "VALIDATION_ERROR"


async def _handshake_then_vanish(url: str, token: str, delay: float) -> None:
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(url + "/socket.io/?EIO=4&transport=websocket")
        await ws.receive()  # Engine.IO OPEN
        await ws.send_str("40" + json.dumps({"token": token}))
        if delay:
            await asyncio.sleep(delay)
        await ws.close()


async def _upgrade_then_reset(host: str, port: int) -> None:
    """A websocket upgrade request whose client is gone (reset) before the answer."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
        b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    await writer.drain()
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def test_abandoned_handshakes_leave_nothing_behind(chat, caplog):
    caplog.set_level(logging.WARNING)
    users = [await chat.user(f"U{i}") for i in range(12)]
    room = await chat.room(users[0])
    for user in users[1:]:
        await chat.join(user, room)
    stayer = await chat.socket(users[0])
    rng = random.Random(7)
    # Sockets closed at random points of the handshake (before, during and after on_connect),
    # many at once so that on_connect is often mid-flight when its client goes.
    await asyncio.gather(
        *(
            _handshake_then_vanish(chat.url, users[i % 12].token, rng.choice([0, 0, 0.001, 0.01]))
            for i in range(120)
        ),
        *(_upgrade_then_reset(chat.server.host, chat.server.port) for _ in range(40)),
    )
    app = chat.server.app
    sio, services = app[SOCKET_IO], app[SERVICES]
    namespace = sio.namespace_handlers["/"]
    grace = services.presence.grace

    async def settled() -> bool:
        online = await services.presence.online(u.id for u in users)
        return (
            online == {users[0].id}
            and list(namespace._users) == [stayer.sio.get_sid("/")]
            and len(namespace._expiry) == 1
            and not sio._inboxes
            and len(sio.eio.sockets) == 1
        )

    for _ in range(200):  # bounded by count; each round is short
        if await settled():
            break
        await asyncio.sleep(grace / 4 + 0.05)
    assert await settled(), (namespace._users, len(namespace._expiry), len(sio.eio.sockets))
    # No dead socket is left in any channel, and the manager's index of each socket's channels
    # (what makes a disconnect cost O(own channels)) agrees with the channels themselves.
    live = set(namespace._users)
    channels = sio.manager.rooms.get("/", {})
    assert {sid for members in channels.values() for sid in members} <= live
    indexed = {
        (sid, room) for (_, sid), rooms in sio.manager._channels_of.items() for room in rooms
    }
    assert indexed == {(sid, room) for room, members in channels.items() for sid in members}
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert problems == [], [r.getMessage() for r in problems]


def _auth_queries() -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(generate_latest().decode())
        for s in family.samples
        if s.name == "chat_db_operations_total" and s.labels.get("op") == "sessions.get"
    )


async def test_handshakes_given_up_while_queued_cost_no_database_work(chat):
    """A reconnect storm: handshakes wait for the database, and clients give up meanwhile. The
    read loop keeps reading while CONNECT waits, so the server sees them go and never works
    through their authentication for nobody."""
    users = [await chat.user(f"Q{i}") for i in range(5)]
    app = chat.server.app
    sio = app[SOCKET_IO]
    namespace = sio.namespace_handlers["/"]
    admission = namespace._admission
    held = 0
    while not admission.locked():  # the database is busy: every handshake slot is taken
        await admission.acquire()
        held += 1
    before = _auth_queries()
    try:
        await asyncio.gather(*(_handshake_then_vanish(chat.url, u.token, 0) for u in users * 4))
        for _ in range(400):  # bounded by count: until the server has seen all twenty go
            if not sio.eio.sockets:
                break
            await asyncio.sleep(0.05)
        assert not sio.eio.sockets
    finally:
        for _ in range(held):
            admission.release()
    for _ in range(400):
        if not sio._inboxes:
            break
        await asyncio.sleep(0.05)
    assert not sio._inboxes and not namespace._users
    assert _auth_queries() == before  # nobody was authenticated for a client already gone
    live = await chat.socket(users[0])  # and the door still works
    assert (await live.wait_for("online-users"))["userIds"] == []

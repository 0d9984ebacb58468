"""Two server processes behind one Redis and one MongoDB: users must not notice the node."""

from __future__ import annotations

import asyncio
import shutil
import time

import pytest

from chat.store.embedded import EmbeddedMongo
from tests.cluster import Api, Node, RedisServer, node_env
from tests.helpers import PASSWORD, User
from tests.realtime import open_peer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("redis-server") is None,
        reason="redis-server is not installed (.ci/run installs it)",
    ),
]


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_nodes(mongo: EmbeddedMongo, redis_server: RedisServer, tmp_path):
    started: list[Node] = []

    def make(count: int = 2, **overrides: str) -> list[Node]:
        env = node_env(mongo.uri, redis_server.url, tmp_path, **overrides)
        nodes = [Node(env) for _ in range(count)]
        for node in nodes:
            node.start()
            started.append(node)
        return nodes

    yield make
    for node in started:
        node.stop()


async def _room(api: Api, node: Node, owner: User, *members: User) -> dict:
    status, body = await api.call(
        node, "POST", "/api/rooms", owner, json={"name": "x", "type": "private"}
    )
    assert status == 201
    room = body["room"]
    for member in members:
        status, _ = await api.call(
            node, "POST", "/api/rooms/join", member, json={"inviteCode": room["inviteCode"]}
        )
        assert status == 200
    return room


async def test_message_on_one_node_reaches_the_other_in_order_exactly_once(make_nodes, api):
    one, two = make_nodes()
    ann, bob = await api.user(one, "Ann"), await api.user(two, "Bob")
    room = await _room(api, one, ann, bob)
    a, b = await open_peer(one.url, ann), await open_peer(two.url, bob)
    acks = await asyncio.gather(
        *(a.call("send-message", {"roomId": room["id"], "text": f"m{i}"}) for i in range(30))
    )
    assert [ack["message"]["seq"] for ack in acks] == list(range(1, 31))
    await b.wait_for("new-message", lambda m: m["seq"] == 30, timeout=30)
    await asyncio.sleep(0.5)
    assert [m["seq"] for m in b.got("new-message")] == list(range(1, 31))
    # REST on node two reaches a socket on node one too.
    status, body = await api.call(
        two, "POST", f"/api/rooms/{room['id']}/messages", bob, json={"text": "back"}
    )
    assert status == 201
    assert await a.wait_for("new-message") == body["message"]
    await a.close()
    await b.close()


async def test_presence_and_typing_across_nodes(make_nodes, api):
    one, two = make_nodes()
    ann, bob = await api.user(one, "Ann"), await api.user(two, "Bob")
    room = await _room(api, one, ann, bob)
    b = await open_peer(two.url, bob)
    a = await open_peer(one.url, ann)
    assert await b.wait_for("user-online") == {"userId": ann.id}
    assert (await a.wait_for("online-users"))["userIds"] == [bob.id]
    status, online = await api.call(two, "GET", "/api/users/online", bob)
    assert [u["id"] for u in online["users"]] == [ann.id]
    a_other = await open_peer(two.url, ann)  # Ann's second tab, on the other node
    await a.call("typing-start", {"roomId": room["id"]})
    assert (await b.wait_for("user-typing"))["userId"] == ann.id
    await asyncio.sleep(0.3)
    assert a_other.got("user-typing") == []  # not to the typist's own sockets, on any node
    await a.close()
    await asyncio.sleep(1.0)
    assert b.got("user-offline") == []  # still connected on node two
    await a_other.close()
    offline = await b.wait_for("user-offline", timeout=30)
    assert offline["userId"] == ann.id
    await b.close()


async def test_kick_on_one_node_cuts_the_member_off_on_the_other(make_nodes, api):
    one, two = make_nodes()
    ann, bob, cid = (
        await api.user(one, "Ann"),
        await api.user(one, "Bob"),
        await api.user(one, "Cid"),
    )
    room = await _room(api, one, ann, bob, cid)
    a, b, c = (
        await open_peer(one.url, ann),
        await open_peer(two.url, bob),
        await open_peer(two.url, cid),
    )
    status, _ = await api.call(one, "DELETE", f"/api/rooms/{room['id']}/members/{cid.id}", ann)
    assert status == 204
    assert (await c.wait_for("member-left"))["reason"] == "kicked"
    await a.call("send-message", {"roomId": room["id"], "text": "after"})
    await b.wait_for("new-message")
    await asyncio.sleep(0.5)
    assert c.got("new-message") == []
    # And a join on node one subscribes the joiner's sockets on node two.
    dan = await api.user(one, "Dan")
    d = await open_peer(two.url, dan)
    status, _ = await api.call(
        one, "POST", "/api/rooms/join", dan, json={"inviteCode": room["inviteCode"]}
    )
    assert status == 200
    await asyncio.sleep(0.3)
    msg = (await a.call("send-message", {"roomId": room["id"], "text": "welcome"}))["message"]
    assert await d.wait_for("new-message") == msg
    for peer in (a, b, c, d):
        await peer.close()


async def test_logout_on_one_node_disconnects_the_session_on_the_other(make_nodes, api):
    one, two = make_nodes()
    ann = await api.user(one, "Ann")
    async with api.session.post(
        one.url + "/api/auth/login", json={"email": ann.email, "password": PASSWORD}
    ) as resp:
        other = User(ann.id, ann.name, ann.email, (await resp.json())["token"])
    kept = await open_peer(one.url, other)
    gone = await open_peer(two.url, ann)
    started = time.monotonic()
    status, _ = await api.call(one, "POST", "/api/auth/logout", ann)
    assert status == 200
    assert await gone.wait_for("session-expired", timeout=30) == {"reason": "logout"}
    while gone.sio.connected and time.monotonic() - started < 2:
        await asyncio.sleep(0.02)
    assert not gone.sio.connected
    assert time.monotonic() - started < 2
    assert kept.sio.connected
    await kept.close()


async def test_message_rate_limit_holds_across_nodes(make_nodes, api):
    one, two = make_nodes(RATE_LIMIT_MESSAGES="4/10seconds")
    ann = await api.user(one, "Ann")
    room = await _room(api, one, ann)
    a1, a2 = await open_peer(one.url, ann), await open_peer(two.url, ann)
    results = []
    for peer in (a1, a2, a1, a2, a1, a2):
        results.append(await peer.call("send-message", {"roomId": room["id"], "text": "x"}))
    assert [r["ok"] for r in results] == [True, True, True, True, False, False]
    assert results[4]["error"]["code"] == "RATE_LIMITED"
    await a1.close()
    await a2.close()


async def test_a_killed_node_s_users_go_offline_within_the_ttl(make_nodes, api):
    one, two = make_nodes()
    ann, bob = await api.user(one, "Ann"), await api.user(one, "Bob")
    await _room(api, one, ann, bob)
    b = await open_peer(one.url, bob)
    a = await open_peer(two.url, ann)
    await b.wait_for("user-online")
    two.kill()  # SIGKILL: no socket is closed, no presence is cleaned up by that node
    killed = time.monotonic()
    offline = await b.wait_for("user-offline", timeout=30)
    elapsed = time.monotonic() - killed
    assert offline["userId"] == ann.id
    # TTL 2 s and a reaper every 1 s make it ~3 s; the bound only says "reaped by the TTL, not
    # never", with room for a busy machine.
    assert elapsed < 20
    status, online = await api.call(one, "GET", "/api/users/online", bob)
    assert ann.id not in [u["id"] for u in online["users"]]
    await a.close()
    await b.close()


async def test_redis_outage_keeps_local_delivery_and_heals(make_nodes, api, redis_server):
    one, two = make_nodes()
    ann, bob, cid = (
        await api.user(one, "Ann"),
        await api.user(one, "Bob"),
        await api.user(one, "Cid"),
    )
    room = await _room(api, one, ann, bob, cid)
    a, b, c = (
        await open_peer(one.url, ann),
        await open_peer(one.url, bob),
        await open_peer(two.url, cid),
    )
    first = (await a.call("send-message", {"roomId": room["id"], "text": "before"}))["message"]
    await c.wait_for("new-message", lambda m: m["id"] == first["id"])

    redis_server.stop()
    during = await a.call("send-message", {"roomId": room["id"], "text": "during"})
    assert during["ok"] is True  # stored and acked
    assert (await b.wait_for("new-message", lambda m: m["text"] == "during"))[
        "seq"
    ] == 2  # local delivery
    await asyncio.sleep(0.5)
    assert [m["text"] for m in c.got("new-message")] == ["before"]  # no cross-node path now

    redis_server.start()
    deadline = time.monotonic() + 10
    healed = False
    while time.monotonic() < deadline and not healed:
        probe = (await a.call("send-message", {"roomId": room["id"], "text": "probe"}))["message"]
        await asyncio.sleep(0.3)
        healed = any(m["id"] == probe["id"] for m in c.got("new-message"))
    assert healed, "cross-node delivery did not come back"
    missed = await c.call("sync", {"rooms": {room["id"]: 1}})
    assert "during" in [m["text"] for m in missed["rooms"][0]["messages"]]  # recovered through sync
    for peer in (a, b, c):
        await peer.close()

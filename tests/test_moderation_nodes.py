"""Moderation across two run.py nodes over a real redis-server: a block or a mute made on one
node holds on the other at once, though that node had the room's rules cached; disabling an
account tells its sockets on both nodes why, then cuts them, and refuses its login on both."""

from __future__ import annotations

import shutil
import time

import pytest

from chat.store.embedded import EmbeddedMongo
from tests.cluster import Api, Node, RedisServer, node_env
from tests.helpers import PASSWORD, register, verify_email
from tests.realtime import Peer, note_disconnect, open_peer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("redis-server") is None,
        reason="redis-server is not installed (.ci/run installs it)",
    ),
]
ADMIN = "root@example.com"


@pytest.fixture
def nodes(mongo: EmbeddedMongo, tmp_path, smtp):
    redis = RedisServer(tmp_path)
    redis.start()
    env = node_env(mongo.uri, redis.url, tmp_path, ADMIN_EMAILS=ADMIN, SMTP_URL=smtp.url)
    started = [Node(env), Node(env)]
    try:
        for node in started:
            node.start()
        yield started
    finally:
        for node in started:
            node.stop()
        redis.stop()


async def _send(peer: Peer, room_id: str, text: str) -> dict:
    return await peer.call("send-message", {"roomId": room_id, "text": text})


async def test_a_block_or_a_mute_on_node_one_holds_on_node_two_at_once(nodes, api: Api):
    one, two = nodes
    ann, bob = await api.user(one, "Ann"), await api.user(two, "Bob")
    status, body = await api.call(two, "POST", "/api/rooms/direct", bob, json={"userId": ann.id})
    direct = body["room"]["id"]
    status, body = await api.call(one, "POST", "/api/rooms", ann, json={"name": "g"})
    group = body["room"]["id"]
    assert (await api.call(two, "POST", f"/api/rooms/{group}/join", bob, json={}))[0] == 200
    b = await open_peer(two.url, bob)
    try:
        for room_id in (direct, group):  # node two reads and caches both rooms' rules
            assert (await _send(b, room_id, "hello"))["ok"]
        assert (await api.call(one, "POST", f"/api/users/{bob.id}/block", ann))[0] == 204
        status, body = await api.call(
            one, "POST", f"/api/rooms/{group}/mutes", ann, json={"userId": bob.id}
        )
        assert status == 201
        for room_id in (direct, group):
            assert (await _send(b, room_id, "refused"))["error"]["code"] == "FORBIDDEN"
            rest = await api.call(
                two, "POST", f"/api/rooms/{room_id}/messages", bob, json={"text": "refused"}
            )
            assert rest[0] == 403
        status, body = await api.call(
            two, "POST", "/api/rooms/direct", bob, json={"userId": ann.id}
        )
        assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
        # Lifted on node one: node two lets him write again at once.
        assert (await api.call(one, "DELETE", f"/api/users/{bob.id}/block", ann))[0] == 204
        assert (await api.call(one, "DELETE", f"/api/rooms/{group}/mutes/{bob.id}", ann))[0] == 204
        for room_id in (direct, group):
            assert (await _send(b, room_id, "back"))["ok"]
    finally:
        await b.close()


async def test_disabling_cuts_sockets_on_both_nodes(nodes, api: Api, smtp):
    one, two = nodes
    root = await register(api.session, "Root", email=ADMIN, base=one.url)
    await verify_email(api.session, root, smtp, base=one.url)  # an admin's address is verified
    bob = await api.user(two, "Bob")
    peers = [await open_peer(one.url, bob), await open_peer(two.url, bob)]
    try:
        for peer in peers:
            note_disconnect(peer)
        started = time.monotonic()
        status, _ = await api.call(one, "POST", f"/api/admin/users/{bob.id}/disable", root)
        assert status == 204
        for peer in peers:  # told why, then cut, on both nodes: order and outcome, not time
            await peer.wait_for("disconnect")
            assert peer.events[-2:] == [
                ("session-expired", {"reason": "disabled"}),
                ("disconnect", None),
            ]
            assert not peer.sio.connected
        print(f"cut on both nodes {time.monotonic() - started:.3f} s after the disable")
        for node in (one, two):
            assert (await api.call(node, "GET", "/api/auth/me", bob))[0] == 401
            async with api.session.post(
                node.url + "/api/auth/login", json={"email": bob.email, "password": PASSWORD}
            ) as resp:
                assert resp.status == 403
        assert (await api.call(two, "POST", f"/api/admin/users/{bob.id}/enable", root))[0] == 204
        async with api.session.post(
            one.url + "/api/auth/login", json={"email": bob.email, "password": PASSWORD}
        ) as resp:
            assert resp.status == 200
    finally:
        for peer in peers:
            await peer.close()


async def test_slow_mode_counts_across_nodes(nodes, api: Api):
    """One message per 30 s: Bob's first goes through node one, his second, on node two, is
    refused (the count lives in Redis, the rate limiter's storage); Ann, the owner, is spared."""
    one, two = nodes
    ann, bob = await api.user(one, "Ann"), await api.user(two, "Bob")
    _, body = await api.call(one, "POST", "/api/rooms", ann, json={"name": "slow"})
    room_id = body["room"]["id"]
    assert (await api.call(two, "POST", f"/api/rooms/{room_id}/join", bob, json={}))[0] == 200
    path = f"/api/rooms/{room_id}"
    assert (await api.call(two, "PATCH", path, ann, json={"slowModeSeconds": 30}))[0] == 200
    b1, b2 = await open_peer(one.url, bob), await open_peer(two.url, bob)
    try:
        assert (await _send(b1, room_id, "first"))["ok"]
        refused = await _send(b2, room_id, "second")
        assert refused["error"]["code"] == "RATE_LIMITED"
        assert 1 <= refused["error"]["details"]["retryAfter"] <= 30
        for node in (one, two):
            sent = await api.call(node, "POST", f"{path}/messages", ann, json={"text": "owner"})
            assert sent[0] == 201
    finally:
        await b1.close()
        await b2.close()

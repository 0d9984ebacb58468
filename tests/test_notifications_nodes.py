"""Notifications across nodes: a user connected to one node gets no push for a message sent on
another (the presence ledger in a real redis-server says they are connected); once they leave,
the next message reaches their browser."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chat.store.embedded import EmbeddedMongo
from tests.cluster import Api, Node, RedisServer, node_env
from tests.helpers import User, eventually
from tests.push_standin import Browser
from tests.realtime import open_peer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("redis-server") is None,
        reason="redis-server is not installed (.ci/run installs it)",
    ),
]
WITHIN = 60


@pytest.fixture
def nodes(mongo: EmbeddedMongo, tmp_path: Path) -> Iterator[list[Node]]:
    """Two nodes over one Redis and one database, sharing DATA_DIR (so one VAPID key)."""
    redis = RedisServer(tmp_path)
    redis.start()
    env = node_env(mongo.uri, redis.url, tmp_path, PUSH_ALLOW_LOOPBACK="true")
    started: list[Node] = []
    try:
        for _ in range(2):
            started.append(Node(env))
            started[-1].start()
        yield started
    finally:
        for node in started:
            node.stop()
        redis.stop()


async def _ok(api: Api, node: Node, method: str, path: str, user: User, **kw: Any) -> Any:
    status, body = await api.call(node, method, path, user, **kw)
    assert status in (200, 201, 204), (method, path, status, body)
    return body


async def _until(check: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    async def attempt() -> Any:
        return check()

    found = await eventually(attempt, done, within=WITHIN)
    assert done(found), found
    return found


async def test_a_user_connected_on_another_node_gets_no_push(nodes, api, push):
    one, two = nodes
    ann, bob, cat = (
        await api.user(one, "Ann"),
        await api.user(two, "Bob"),
        await api.user(one, "Cat"),
    )
    keys = [
        (await _ok(api, n, "GET", "/api/push/vapid-public-key", ann))["publicKey"] for n in nodes
    ]
    assert keys[0] == keys[1]  # a browser subscribed through either node trusts both
    room = (await _ok(api, one, "POST", "/api/rooms", ann, json={"name": "Ops"}))["room"]
    browsers = {}
    for user, node in ((bob, two), (cat, one)):
        await _ok(api, node, "POST", f"/api/rooms/{room['id']}/join", user, json={})
        await _ok(
            api,
            node,
            "PATCH",
            f"/api/rooms/{room['id']}/notifications",
            user,
            json={"level": "all"},
        )
        browsers[user.name] = Browser(push.endpoint(user.name))
        await _ok(
            api,
            node,
            "POST",
            "/api/push/subscriptions",
            user,
            json=browsers[user.name].subscription,
        )
    b = await open_peer(two.url, bob)
    try:
        path = f"/api/rooms/{room['id']}/messages"
        first = (await _ok(api, one, "POST", path, ann, json={"text": "one"}))["message"]
        await b.wait_for("new-message", lambda m: m["id"] == first["id"], timeout=WITHIN)
        # Cat is offline: her push shows node one has decided who hears of this message.
        [to_cat] = await _until(lambda: push.to("Cat"), lambda found: len(found) == 1)
        assert browsers["Cat"].decrypt(to_cat.body)["messageId"] == first["id"]
    finally:
        await b.close()

    async def online() -> list[str]:
        _, body = await api.call(one, "GET", "/api/users/online", ann)
        return [u["id"] for u in body["users"]]

    assert bob.id not in await eventually(online, lambda ids: bob.id not in ids, within=WITHIN)
    second = (await _ok(api, one, "POST", path, ann, json={"text": "two"}))["message"]
    await _until(lambda: push.to("Bob"), lambda found: len(found) >= 1)
    await _until(lambda: push.to("Cat"), lambda found: len(found) == 2)
    assert [browsers["Bob"].decrypt(p.body)["messageId"] for p in push.to("Bob")] == [second["id"]]
    assert push.refused == []

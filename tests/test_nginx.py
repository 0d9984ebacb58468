"""deploy/nginx.conf, run for real in front of two nodes: REST, websocket and polling through it."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest

from chat.store.embedded import free_port
from tests.cluster import Node, RedisServer, node_env
from tests.realtime import open_peer

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
        reason="nginx is not installed (.ci/run installs it)",
    ),
    pytest.mark.skipif(
        shutil.which("redis-server") is None, reason="redis-server is not installed"
    ),
]


def _render(nodes: list[Node], port: int, prefix: Path) -> Path:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"        server 127.0.0.1:{n.port};\n" for n in nodes)
    conf = re.sub(r"(        server 127\.0\.0\.1:\d+;\n)+", servers, conf)
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    path = prefix / "nginx.conf"
    path.write_text(conf)
    return path


async def test_clients_work_through_nginx(mongo, tmp_path, api):
    redis = RedisServer(tmp_path)
    redis.start()
    env = node_env(mongo.uri, redis.url, tmp_path, TRUST_PROXY="true", RATE_LIMIT_AUTH="5/minute")
    nodes = [Node(env), Node(env)]
    port = free_port()
    nginx = None
    try:
        for node in nodes:
            node.start()
        conf = _render(nodes, port, tmp_path)
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        nginx = subprocess.Popen(
            [binary, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log"),
             "-g", f"daemon off; pid {tmp_path / 'nginx.pid'};"],
        )  # fmt: skip
        front = type("Front", (), {"url": f"http://127.0.0.1:{port}"})()
        session = api.session
        for _ in range(50):
            try:
                async with session.get(front.url + "/health") as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        ann, bob = await api.user(front, "Ann"), await api.user(nodes[1], "Bob")
        status, body = await api.call(front, "POST", "/api/rooms", ann, json={"name": "n"})
        room = body["room"]
        status, _ = await api.call(front, "POST", f"/api/rooms/{room['id']}/join", bob, json={})
        assert status == 200
        polling = await open_peer(front.url, bob, transports=["polling"])
        upgraded = await open_peer(front.url, bob, transports=["polling", "websocket"])
        direct = await open_peer(nodes[0].url, ann)
        msg = (await direct.call("send-message", {"roomId": room["id"], "text": "via nginx"}))[
            "message"
        ]
        assert await polling.wait_for("new-message") == msg
        assert await upgraded.wait_for("new-message") == msg
        assert (await polling.call("message-read", {"roomId": room["id"], "seq": 1}))["ok"] is True
        # TRUST_PROXY: limits follow the address nginx appended, so a client cannot dodge
        # them with a made-up X-Forwarded-For. Two registrations from 127.0.0.1 so far
        # (through nginx and straight to a node, one Redis counting both), limit 5.
        statuses = []
        for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"):
            async with session.post(
                front.url + "/api/auth/login",
                json={"email": "nobody@example.com", "password": "whatever1"},
                headers={"X-Forwarded-For": address},
            ) as resp:
                statuses.append(resp.status)
        assert statuses == [401, 401, 401, 429, 429]
        for peer in (polling, upgraded, direct):
            await peer.close()
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        for node in nodes:
            node.stop()
        redis.stop()

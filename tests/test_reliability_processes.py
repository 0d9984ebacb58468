"""Reliability promises that need a whole server process: restarts, shutdown, hostile clients."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
import time
from pathlib import Path

import aiohttp
import pytest
import socketio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cluster import Node, node_env
from tests.helpers import register
from tests.realtime import open_peer

pytestmark = pytest.mark.slow


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
async def test_promise_no_gap_after_reconnect_or_restart(mongo, tmp_path, api, how):
    env = node_env(mongo.uri, "", tmp_path)
    node = Node(env)
    node.start()
    try:
        ann, bob = await api.user(node, "Ann"), await api.user(node, "Bob")
        status, body = await api.call(node, "POST", "/api/rooms", ann, json={"name": "r"})
        room = body["room"]
        await api.call(node, "POST", f"/api/rooms/{room['id']}/join", bob, json={})
        a, b = await open_peer(node.url, ann), await open_peer(node.url, bob)
        for i in range(5):
            await a.call("send-message", {"roomId": room["id"], "text": f"seen {i}"})
        last_seen = (await b.wait_for("new-message", lambda m: m["seq"] == 5))["seq"]
        await b.close()  # the receiver drops off
        sent = []
        for i in range(200):
            ack = await a.call("send-message", {"roomId": room["id"], "text": f"missed {i}"})
            sent.append(ack["message"]["id"])
        await a.close()
        # ... and the server process goes away and comes back on the same database.
        node.process.send_signal(how)
        node.process.wait(15)
        node = Node(env, port=node.port)
        node.start()
        b2 = await open_peer(node.url, bob)
        got, cursor = [], last_seen
        for _ in range(10):
            reply = await b2.call("sync", {"rooms": {room["id"]: cursor}})
            entry = reply["rooms"][0]
            got += [m["id"] for m in entry["messages"]]
            if not entry["hasMore"]:
                break
            cursor = entry["messages"][-1]["seq"]
        assert got == sent  # exactly what was missed: nothing lost, nothing twice, in order
        await b2.close()
    finally:
        node.stop()


EVENTS = ["join-room", "leave-room", "send-message", "edit-message", "delete-message", "react-message",
          "typing-start", "typing-stop", "message-read", "message-delivered", "get-history", "sync",
          "user-status"]  # fmt: skip
KEYS = ["roomId", "messageId", "text", "seq", "emoji", "rooms", "status", "before", "after", "limit",
        "inviteCode", "clientId", "replyTo", "__proto__", "constructor", "$where", "$gt", "isAdmin"]  # fmt: skip
scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False) | st.text(max_size=50) | st.text(min_size=4000, max_size=4100)
    | st.sampled_from(["0" * 24, "f" * 24, "{}", "$gt", "__proto__", "online"])
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=30,
)
payloads = values | st.dictionaries(st.sampled_from(KEYS), values, max_size=6)
event_names = st.sampled_from(EVENTS) | st.text(max_size=30)


def _token(node: Node, name: str) -> str:
    """A user's token for this synchronous test, from the one user factory."""

    async def sign_up() -> str:
        async with aiohttp.ClientSession() as session:
            return (await register(session, name, base=node.url)).token

    return asyncio.run(sign_up())


def test_promise_nothing_reaches_a_non_member(mongo, tmp_path):
    log_path = tmp_path / "node.log"
    node = Node(node_env(mongo.uri, "", tmp_path))
    node.start(log_path)
    try:
        heard: list[str] = []
        lock = threading.Lock()

        def record(event: str, data: object = None) -> None:
            with lock:
                heard.append(event)

        outsider = socketio.Client(reconnection=False)
        outsider.on("*", record)
        outsider.connect(
            node.url, auth={"token": _token(node, "outsider")}, transports=["websocket"]
        )
        attacker = socketio.Client(reconnection=False)
        attacker.connect(
            node.url, auth={"token": _token(node, "attacker")}, transports=["websocket"]
        )
        answered: list[bool] = []

        @settings(
            max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        @given(event=event_names, payload=payloads)
        def attack(event: str, payload: object) -> None:
            if event in ("connect", "disconnect", "connect_error", "message", ""):
                return  # reserved by the Socket.IO clients themselves
            ack = attacker.call(event, payload, timeout=10)
            assert isinstance(ack, dict)
            assert isinstance(ack.get("ok"), bool)
            if not ack["ok"]:
                assert ack["error"]["code"] != "INTERNAL", (event, payload, ack)
            answered.append(ack["ok"])

        attack()
        time.sleep(0.5)
        assert attacker.connected
        assert outsider.connected
        with lock:
            assert [e for e in heard if e != "online-users"] == []
        assert len(answered) > 100
        attacker.disconnect()
        outsider.disconnect()
    finally:
        node.stop()
    output = log_path.read_text(errors="replace")
    assert "Traceback" not in output
    assert "event handler failed" not in output


async def test_promise_graceful_shutdown_with_200_clients(tmp_path, api):
    env = node_env("", "", tmp_path)  # embedded database, started and stopped by run.py
    node = Node(env)
    node.start()
    try:
        ann = await api.user(node, "Ann")
        status, body = await api.call(node, "POST", "/api/rooms", ann, json={"name": "r"})
        room = body["room"]
        peers = await asyncio.gather(*(open_peer(node.url, ann) for _ in range(200)))
        acked: dict[str, str] = {}
        stop = asyncio.Event()

        async def keep_sending(i: int) -> None:
            n = 0
            while not stop.is_set() and n < 500:
                cid = f"{i}-{n}"
                try:
                    ack = await peers[i].call(
                        "send-message",
                        {"roomId": room["id"], "text": cid, "clientId": cid},
                        timeout=5,
                    )
                except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError,
                        socketio.exceptions.DisconnectedError):  # fmt: skip
                    return  # the ack was lost with the connection: a client would resend
                if ack["ok"]:
                    acked[cid] = ack["message"]["id"]
                else:
                    assert ack["error"]["code"] == "UNAVAILABLE"
                    return
                n += 1

        senders = [asyncio.create_task(keep_sending(i)) for i in range(10)]
        await asyncio.sleep(1.0)
        signalled = time.monotonic()
        node.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.3)
        refused = False
        try:
            await open_peer(node.url, ann)
        except socketio.exceptions.ConnectionError:
            refused = True
        assert refused, "new connections were still accepted"
        code = await asyncio.to_thread(node.process.wait, 15)
        exit_seconds = time.monotonic() - signalled
        stop.set()
        await asyncio.gather(*senders)
        told = sum(1 for p in peers if p.got("server-shutdown"))
        still_connected = sum(1 for p in peers if p.sio.connected)
        leftover = subprocess.run(
            ["pgrep", "-f", str(tmp_path / "db")], capture_output=True, text=True
        ).stdout
        print(
            f"\nexit={code} in {exit_seconds:.2f}s told={told}/200 connected_after={still_connected} acked={len(acked)}"
        )
        assert code == 0
        assert exit_seconds < 6
        assert told == 200
        assert still_connected == 0
        assert leftover.strip() == "", "the embedded database outlived the server"
        node = Node(env, port=node.port)
        node.start()
        _, history = await api.call(node, "GET", f"/api/rooms/{room['id']}/messages?limit=100", ann)
        stored, after = {}, 0
        while True:
            _, page = await api.call(
                node, "GET", f"/api/rooms/{room['id']}/messages?limit=100&after={after}", ann
            )
            stored.update({m["clientId"]: m["id"] for m in page["messages"]})
            if not page["hasMore"]:
                break
            after = page["messages"][-1]["seq"]
        assert all(stored.get(cid) == mid for cid, mid in acked.items()), (
            "an acked message was lost"
        )
        for peer in peers:
            await peer.close()
    finally:
        node.stop()


async def test_promise_unauthenticated_handshakes_are_released(aiohttp_server, settings):
    """2,000 Engine.IO handshakes that never send a Socket.IO CONNECT: after the ping timeout
    every session is gone and the Python heap is back at its baseline."""
    import dataclasses
    import gc
    import tracemalloc

    from chat.api.keys import SOCKET_IO
    from chat.app import create_app

    app = create_app(dataclasses.replace(settings, ping_interval=1, ping_timeout=1))
    server = await aiohttp_server(app)
    sio = app[SOCKET_IO]
    url = f"http://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as session:

        async def handshakes(count: int) -> None:
            for start in range(0, count, 200):
                replies = await asyncio.gather(
                    *(session.get(url) for _ in range(min(200, count - start)))
                )
                for reply in replies:
                    assert reply.status == 200
                    await reply.read()

        async def drained(within: float) -> float:
            started = time.monotonic()
            while sio.eio.sockets or sio.environ:
                assert time.monotonic() - started < within, f"{len(sio.eio.sockets)} sessions left"
                await asyncio.sleep(0.25)
            return time.monotonic() - started

        await handshakes(2000)  # warm up every code path and cache once
        await drained(60)
        gc.collect()
        tracemalloc.start()
        try:
            rounds = []
            for _ in range(2):
                await handshakes(2000)
                held = tracemalloc.get_traced_memory()[0]
                assert len(sio.eio.sockets) == 2000
                took = await drained(60)
                gc.collect()
                rounds.append((held, tracemalloc.get_traced_memory()[0], took))
        finally:
            tracemalloc.stop()
    (held1, after1, took1), (held2, after2, took2) = rounds
    print(
        f"\nheap KB: round 1 held={held1 // 1024} after={after1 // 1024} (drained in {took1:.1f}s); "
        f"round 2 held={held2 // 1024} after={after2 // 1024} (drained in {took2:.1f}s)"
    )
    assert held2 - after1 > 4 * 1024 * 1024  # 2,000 sessions really were held...
    assert after2 - after1 < 256 * 1024  # ...and all released: nothing accumulates per round

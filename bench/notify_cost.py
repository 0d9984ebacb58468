"""What notifications cost a sender: send-message ack latency, one at a time, in a room whose other
members are all offline, with and without their Web Push subscriptions.

    python -m bench.notify_cost [--offline 100] [--sends 300] [--before PATH]

Runs the real server (run.py, embedded database) once per scenario, each on a fresh data folder:
- `subscribed`: every offline member has one Web Push subscription (to a loopback push service
  that answers 201, as a real one does) and level `all`, so every message is one push each;
- `unsubscribed`: the same members, no subscriptions (the notifier still looks for recipients);
- `before` (with `--before PATH`, another checkout, e.g. `git worktree add /tmp/before 7d6ebcc`):
  the same room on that code, which has no notifications at all.
Prints one JSON line per scenario and a last line of ratios to `before` (or to `unsubscribed`).
Pushes received are counted too (and how long after the last ack they kept coming): the sends
must not wait for them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import signal
import statistics
import time
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bench.ack_latency import percentile
from bench.server import ROOT, bench_server, free_port, run


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _subscription_keys() -> dict[str, str]:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return {"p256dh": _b64(point), "auth": _b64(os.urandom(16))}


def _serve_pushes(port: int, received: Any, ready: Any) -> None:
    """The push service's own process (its work must not share the measuring client's loop)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the bench's Ctrl-C handler: just stop

    async def push(request: web.Request) -> web.Response:
        await request.read()
        with received.get_lock():
            received.value += 1
        return web.Response(status=201)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/push/{n}", push)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


class PushService:
    """A loopback push service in a process of its own: answers 201 to every POST, counts them."""

    def __init__(self) -> None:
        self.port = free_port()
        self._received = multiprocessing.Value("i", 0)
        self._ready = multiprocessing.Event()
        self._process = multiprocessing.Process(
            target=_serve_pushes, args=(self.port, self._received, self._ready), daemon=True
        )

    @property
    def received(self) -> int:
        return int(self._received.value)

    async def __aenter__(self) -> PushService:
        self._process.start()
        if not await asyncio.to_thread(self._ready.wait, 30):
            raise RuntimeError("the push service did not start within 30 s")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.join(10)


async def _register(http: aiohttp.ClientSession, url: str, name: str) -> tuple[str, dict]:
    resp = await http.post(
        f"{url}/api/auth/register",
        json={"name": name, "email": f"{name}@example.com", "password": "bench-password"},
    )
    body = await resp.json()
    assert resp.status == 201, body
    return body["token"], {"Authorization": f"Bearer {body['token']}"}


async def _room(http, url: str, offline: int, push: PushService | None) -> tuple[str, str]:
    """A room of a sender and `offline` members (never connected); returns (token, room id)."""
    token, owner = await _register(http, url, "sender")
    resp = await http.post(f"{url}/api/rooms", json={"name": "bench"}, headers=owner)
    room_id = (await resp.json())["room"]["id"]
    for i in range(offline):
        _, member = await _register(http, url, f"member{i}")
        resp = await http.post(f"{url}/api/rooms/{room_id}/join", json={}, headers=member)
        assert resp.status == 200, await resp.text()
        if push is None:
            continue
        endpoint = f"http://127.0.0.1:{push.port}/push/{i}"
        resp = await http.post(
            f"{url}/api/push/subscriptions",
            json={"endpoint": endpoint, "keys": _subscription_keys()},
            headers=member,
        )
        assert resp.status == 201, await resp.text()
        resp = await http.patch(
            f"{url}/api/rooms/{room_id}/notifications", json={"level": "all"}, headers=member
        )
        assert resp.status == 200, await resp.text()
    return token, room_id


async def _acks(url: str, token: str, room_id: str, sends: int) -> list[float]:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, auth={"token": token}, transports=["websocket"])
    try:
        for i in range(20):  # warm-up
            await client.call("send-message", {"roomId": room_id, "text": f"warm {i}"}, timeout=30)
        latencies = []
        for i in range(sends):
            started = time.perf_counter()
            ack = await client.call(
                "send-message",
                {"roomId": room_id, "text": f"m{i}", "clientId": f"c{i}"},
                timeout=30,
            )
            latencies.append((time.perf_counter() - started) * 1000)
            assert ack["ok"], ack
        return latencies
    finally:
        await client.disconnect()


async def _drain(push: PushService, within: float) -> float:
    """Wait until pushes stop arriving (none for 3 s) or `within` seconds; the seconds waited."""
    started = last_change = time.monotonic()
    seen = push.received
    while time.monotonic() - last_change < 3 and time.monotonic() - started < within:
        await asyncio.sleep(0.2)
        if push.received != seen:
            seen, last_change = push.received, time.monotonic()
    return last_change - started


async def scenario(name: str, args: argparse.Namespace, root: Path, subscribed: bool) -> dict:
    async with PushService() as push, bench_server(root=root, PUSH_ALLOW_LOOPBACK="true") as server:
        async with aiohttp.ClientSession() as http:
            token, room_id = await _room(
                http, server.url, args.offline, push if subscribed else None
            )
        latencies = await _acks(server.url, token, room_id, args.sends)
        drained = await _drain(push, args.drain) if subscribed else 0.0
        return {
            "scenario": name,
            "offline_members": args.offline,
            "sends": args.sends,
            "ack_ms_p50": round(percentile(latencies, 50), 2),
            "ack_ms_p99": round(percentile(latencies, 99), 2),
            "ack_ms_mean": round(statistics.fmean(latencies), 2),
            # A push waiting for a browser takes over its room's newer message (the notifier
            # merges them), so fewer pushes than messages x members arrive under a burst.
            "pushes_received": push.received,
            "pushes_drained_s": round(drained, 1),
        }


async def main(args: argparse.Namespace) -> None:
    runs: list[dict[str, Any]] = []
    if args.before:
        runs.append(await scenario("before", args, Path(args.before), subscribed=False))
        print(json.dumps(runs[-1]), flush=True)
    for name, subscribed in (("unsubscribed", False), ("subscribed", True)):
        runs.append(await scenario(name, args, ROOT, subscribed))
        print(json.dumps(runs[-1]), flush=True)
    base = runs[0]
    ratios = {
        f"{r['scenario']}/{base['scenario']}_ack_p50": round(
            r["ack_ms_p50"] / base["ack_ms_p50"], 2
        )
        for r in runs[1:]
    }
    print(json.dumps({"ratios": ratios}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", type=int, default=100, help="offline members in the room")
    parser.add_argument("--sends", type=int, default=300)
    parser.add_argument("--before", help="another checkout to measure first (no notifications)")
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait for the pushes")
    run(main(parser.parse_args()))  # SIGTERM cleans up as Ctrl-C does

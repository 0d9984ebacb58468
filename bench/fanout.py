"""Fan-out benchmark: N authenticated sockets in R rooms, S senders at a fixed total rate.

    python -m bench.fanout --clients 1000 --rooms 10 --rate 200 --seconds 20
    python -m bench.fanout --clients 1000 --rooms 10 --saturate        # highest rate, p99 < 100 ms
    python -m bench.fanout --clients 2000 --rooms 1 --rate 10 --seconds 20   # one big room

Starts the real server (`python run.py`, embedded database), registers users and rooms through
the API, connects every socket over websocket, then sends real `send-message` events (stored,
then acked) and prints one JSON line per run: connect time, acked sends, deliveries/s, lost,
end-to-end latency (send to receive) and ack latency percentiles, server and database CPU, peak
RSS, and the load generator's own CPU (if that nears 100% it, not the server, was the limit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
import uuid

import aiohttp

from bench.procstat import children, cpu_seconds, memory_kb
from bench.protocol import LeanSocket, now_ms
from bench.server import running_server


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)


async def seed(url: str, clients: int, rooms: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Register `clients` users; user i is in room i % rooms. Returns [(token, room)], room ids."""
    tag = uuid.uuid4().hex[:6]
    gate = asyncio.Semaphore(64)
    async with aiohttp.ClientSession() as http:

        async def register(i: int) -> str:
            async with gate:
                body = {
                    "name": f"u{i}",
                    "email": f"u{i}-{tag}@bench.example",
                    "password": "bench-password",
                }
                async with http.post(url + "/api/auth/register", json=body) as resp:
                    return (await resp.json())["token"]

        tokens = await asyncio.gather(*(register(i) for i in range(clients)))
        room_ids = []
        for r in range(rooms):
            headers = {"Authorization": f"Bearer {tokens[r]}"}
            async with http.post(
                url + "/api/rooms", json={"name": f"room {r}"}, headers=headers
            ) as resp:
                room_ids.append((await resp.json())["room"]["id"])

        async def join(i: int) -> None:
            if i < rooms:
                return  # the owner
            async with gate:
                headers = {"Authorization": f"Bearer {tokens[i]}"}
                async with http.post(
                    f"{url}/api/rooms/{room_ids[i % rooms]}/join", json={}, headers=headers
                ) as r:
                    assert r.status == 200, await r.text()

        await asyncio.gather(*(join(i) for i in range(clients)))
    return [(tokens[i], room_ids[i % rooms]) for i in range(clients)], room_ids


class Run:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.deliveries = 0
        self.window_open = False

    def on_event(self, name: str, payload: dict) -> None:
        if name == "new-message" and self.window_open:
            self.deliveries += 1
            self.latencies.append(now_ms() - float(payload["text"]))


async def connect_all(
    session: aiohttp.ClientSession, url: str, members: list[tuple[str, str]], run: Run
) -> tuple[list[LeanSocket], float]:
    sockets = [LeanSocket(session, url, token, run.on_event) for token, _ in members]
    started = time.monotonic()
    for start in range(0, len(sockets), 200):
        await asyncio.gather(*(s.connect() for s in sockets[start : start + 200]))
    return sockets, time.monotonic() - started


async def trial(
    url: str, pids: list[int], sockets: list[LeanSocket], members: list[tuple[str, str]],
    run: Run, rate: float, seconds: float, senders: int, room_size: dict[str, int],
) -> dict:  # fmt: skip
    """Send at `rate` messages/s in total for `seconds`, from `senders` sockets."""
    run.latencies, run.deliveries = [], 0
    # Spread the senders over the rooms: user i is in room i % rooms.
    rooms = len(room_size)
    chosen = [
        (k % rooms) + rooms * (k // rooms)
        for k in range(senders)
        if (k % rooms) + rooms * (k // rooms) < len(sockets)
    ]
    acks: list[float] = []
    acked = failed = 0
    expected = 0
    interval = senders / rate
    cpu_before = {pid: cpu_seconds(pid) for pid in pids}
    own_before, wall_before = time.process_time(), time.monotonic()
    run.window_open = True

    async def send_from(index: int, offset: float) -> None:
        nonlocal acked, failed, expected
        sock, room = sockets[index], members[index][1]
        start = time.monotonic() + offset
        n = 0
        pending = []
        while True:
            due = start + n * interval
            if due - wall_before > seconds:
                break
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

            async def one(k: int) -> None:
                nonlocal acked, failed, expected
                sent = now_ms()
                ack = await sock.call(
                    "send-message",
                    {"roomId": room, "text": repr(sent), "clientId": f"{index}-{k}-{sent}"},
                )
                acks.append(now_ms() - sent)
                if ack.get("ok"):
                    acked += 1
                    expected += room_size[room] - 1
                else:
                    failed += 1

            pending.append(asyncio.create_task(one(n)))
            n += 1
        await asyncio.gather(*pending)

    await asyncio.gather(*(send_from(i, k * interval / senders) for k, i in enumerate(chosen)))
    drain_deadline = time.monotonic() + 5
    while run.deliveries < expected and time.monotonic() < drain_deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    run.window_open = False
    wall = time.monotonic() - wall_before
    own_cpu = time.process_time() - own_before
    cpu = {pid: cpu_seconds(pid) - cpu_before[pid] for pid in pids}
    server_cpu = sum(cpu.values())
    return {
        "rate": rate,
        "seconds": seconds,
        "senders": len(chosen),
        "acked": acked,
        "failed": failed,
        "deliveries": run.deliveries,
        "expected": expected,
        "lost": max(0, expected - run.deliveries),
        "deliveries_per_s": round(run.deliveries / wall, 1),
        "e2e_ms": {
            "p50": pct(run.latencies, 50),
            "p95": pct(run.latencies, 95),
            "p99": pct(run.latencies, 99),
            "max": round(max(run.latencies), 2) if run.latencies else None,
        },
        "ack_ms": {"p50": pct(acks, 50), "p99": pct(acks, 99)},
        "server_cpu_pct": round(100 * cpu[pids[0]] / wall, 1),
        "db_cpu_pct": round(100 * sum(v for p, v in cpu.items() if p != pids[0]) / wall, 1),
        "cpu_us_per_delivery": round(1e6 * server_cpu / run.deliveries, 1)
        if run.deliveries
        else None,
        "loadgen_cpu_pct": round(100 * own_cpu / wall, 1),
    }


async def main(args: argparse.Namespace) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with running_server(BCRYPT_ROUNDS="4") as (url, process):
        pids = [process.pid, *children(process.pid)]
        members, room_ids = await seed(url, args.clients, args.rooms)
        room_size = {r: sum(1 for _, room in members if room == r) for r in room_ids}
        run = Run()
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        sockets, connect_s = await connect_all(session, url, members, run)
        await asyncio.sleep(1)
        base = {"clients": args.clients, "rooms": args.rooms, "connect_s": round(connect_s, 2)}
        if args.saturate:
            best = None
            rate = args.rate
            while rate <= args.max_rate:
                result = await trial(
                    url, pids, sockets, members, run, rate, args.seconds, args.senders, room_size
                )
                ok = result["lost"] == 0 and result["failed"] == 0 and result["e2e_ms"]["p99"] < 100
                print(json.dumps({**base, **result, "pass": ok}), flush=True)
                if not ok:
                    break
                best = rate
                rate += args.step
            print(json.dumps({**base, "saturation_msgs_per_s": best}), flush=True)
        else:
            result = await trial(
                url, pids, sockets, members, run, args.rate, args.seconds, args.senders, room_size
            )
            peak = {"server_peak_rss_mb": round(memory_kb(pids[0], "VmHWM") / 1024, 1),
                    "db_peak_rss_mb": round(sum(memory_kb(p, "VmHWM") for p in pids[1:]) / 1024, 1)}  # fmt: skip
            print(json.dumps({**base, **result, **peak}), flush=True)
        for sock in sockets:
            await sock.close()
        await session.close()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--rate", type=float, default=200, help="messages per second, all senders")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--senders", type=int, default=10)
    parser.add_argument(
        "--saturate", action="store_true", help="raise --rate by --step until p99 >= 100 ms or loss"
    )
    parser.add_argument("--step", type=float, default=100)
    parser.add_argument("--max-rate", type=float, default=2000)
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()

"""Fan-out benchmark: N authenticated sockets in R rooms, S senders at a fixed total rate.

    python -m bench.fanout --clients 1000 --rooms 10 --rate 200 --seconds 20
    python -m bench.fanout --clients 1000 --rooms 10 --saturate        # highest rate, p99 < 100 ms
    python -m bench.fanout --clients 2000 --rooms 1 --rate 10 --seconds 20   # one big room
    python -m bench.fanout --clients 1000 --rooms 10 --rate 200 --compare    # Python, then Node

Starts the real server (`python run.py`, embedded database), registers users and rooms through
the API, connects every socket over websocket, then sends real `send-message` events (stored,
then acked) and prints one JSON line per run: connect time, acked sends, deliveries/s, lost,
end-to-end latency (send to receive) and ack latency percentiles, server and database CPU, peak
RSS, and the load generator's own CPU (if that nears 100% it, not the server, was the limit).

`--target node` runs the same scenario against the Node.js socket.io reference
(bench/node_ref, no database, tokens "<userId>:<roomId>" made here); `--compare` runs Python
then Node in one command and prints a third line of python/node ratios.

Every wait is bounded: a connect by --connect-timeout, an ack by --ack-timeout; a closed socket
fails its pending acks at once. A trial with ack time-outs or closed sockets prints its line and
then exits 1 with "STALLED: ..." on stderr saying what it was waiting for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections import Counter

import aiohttp

from bench import dbops
from bench.procstat import cpu_seconds, memory_kb
from bench.protocol import LeanSocket, close_all, now_ms
from bench.server import Stalled, bench_server, run


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)


async def seed(url: str, clients: int, rooms: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Register `clients` users; user i is in room i % rooms. Returns [(token, room)], room ids."""
    tag = uuid.uuid4().hex[:6]
    gate = asyncio.Semaphore(64)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:

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


def synthetic_members(clients: int, rooms: int) -> tuple[list[tuple[str, str]], list[str]]:
    """For the Node reference: user i is `u<i>` in room `r<i % rooms>`, token "<user>:<room>"."""
    room_ids = [f"r{r}" for r in range(rooms)]
    return [(f"u{i}:{room_ids[i % rooms]}", room_ids[i % rooms]) for i in range(clients)], room_ids


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
    session: aiohttp.ClientSession, url: str, members: list[tuple[str, str]], run: Run,
    within: float = 60,
) -> tuple[list[LeanSocket], float]:  # fmt: skip
    sockets = [LeanSocket(session, url, token, run.on_event) for token, _ in members]
    started = time.monotonic()
    for start in range(0, len(sockets), 200):
        batch = sockets[start : start + 200]
        results = await asyncio.gather(*(s.connect(within) for s in batch), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            timeouts = sum(isinstance(e, TimeoutError) for e in errors)
            await close_all(sockets[: start + len(batch)])
            raise Stalled(
                f"connecting sockets {start}..{start + len(batch) - 1} of {len(sockets)}: "
                f"{len(errors)} failed ({timeouts} not connected within {within:.0f} s); "
                f"first error: {errors[0]!r}"
            )
    return sockets, time.monotonic() - started


def waiting_for(sockets: list[LeanSocket]) -> str:
    outstanding = sum(s.pending_acks for s in sockets)
    waiting = sum(1 for s in sockets if s.pending_acks)
    closed = [s for s in sockets if not s.connected]
    reasons = sorted({s.close_reason or "?" for s in closed})[:3]
    return (
        f"{outstanding} acks outstanding on {waiting} sockets; {len(closed)} of {len(sockets)} "
        f"sockets closed" + (f" ({', '.join(reasons)})" if closed else "")
    )


async def trial(
    url: str, pids: list[int], sockets: list[LeanSocket], members: list[tuple[str, str]],
    run: Run, rate: float, seconds: float, senders: int, room_size: dict[str, int],
    ack_timeout: float = 30,
) -> dict:  # fmt: skip
    """Send at `rate` messages/s in total for `seconds`, from `senders` sockets.

    Bounded: each ack by `ack_timeout`, the whole trial by seconds + ack_timeout + 20 s (then
    Stalled, saying how many acks were outstanding and how many sockets had closed)."""
    try:
        async with asyncio.timeout(seconds + ack_timeout + 20):
            return await _trial(
                url, pids, sockets, members, run, rate, seconds, senders, room_size, ack_timeout
            )
    except TimeoutError:
        run.window_open = False
        raise Stalled(f"trial at {rate} msgs/s did not finish: {waiting_for(sockets)}") from None


async def _trial(
    url: str, pids: list[int], sockets: list[LeanSocket], members: list[tuple[str, str]],
    run: Run, rate: float, seconds: float, senders: int, room_size: dict[str, int],
    ack_timeout: float,
) -> dict:  # fmt: skip
    run.latencies, run.deliveries = [], 0
    # Spread the senders over the rooms: user i is in room i % rooms.
    rooms = len(room_size)
    chosen = [
        (k % rooms) + rooms * (k // rooms)
        for k in range(senders)
        if (k % rooms) + rooms * (k // rooms) < len(sockets)
    ]
    acks: list[float] = []
    acked = failed = ack_timeouts = connection_lost = 0
    ack_errors: Counter[str] = Counter()
    expected = 0
    interval = senders / rate
    cpu_before = {pid: cpu_seconds(pid) for pid in pids}
    ops_before = await asyncio.to_thread(dbops.scrape, url)
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
                nonlocal acked, failed, expected, ack_timeouts, connection_lost
                sent = now_ms()
                try:
                    ack = await sock.call(
                        "send-message",
                        {"roomId": room, "text": repr(sent), "clientId": f"{index}-{k}-{sent}"},
                        within=ack_timeout,
                    )
                except TimeoutError:
                    failed += 1
                    ack_timeouts += 1
                    return
                except ConnectionError:
                    failed += 1
                    connection_lost += 1
                    return
                acks.append(now_ms() - sent)
                if ack.get("ok"):
                    acked += 1
                    expected += room_size[room] - 1
                else:
                    failed += 1
                    error = ack.get("error") or {}
                    ack_errors[f"{error.get('code')}: {str(error.get('message'))[:60]}"] += 1

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
    closed = sum(1 for s in sockets if not s.connected)
    ops = dbops.per_message(ops_before, await asyncio.to_thread(dbops.scrape, url))
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
        **ops,
        **({"ack_errors": dict(ack_errors)} if ack_errors else {}),
        **(
            {"ack_timeouts": ack_timeouts, "connection_lost": connection_lost, "closed": closed}
            if ack_timeouts or connection_lost or closed
            else {}
        ),
    }


def check_stalled(result: dict, sockets: list[LeanSocket]) -> None:
    if result.get("ack_timeouts") or result.get("connection_lost") or result.get("closed"):
        raise Stalled(
            f"trial at {result['rate']} msgs/s: {result.get('ack_timeouts', 0)} acks timed out, "
            f"{result.get('connection_lost', 0)} sends lost to closed connections; "
            f"now {waiting_for(sockets)}"
        )


async def scenario(args: argparse.Namespace, target: str) -> list[dict]:
    """One full run against `target`; prints and returns its JSON lines."""
    lines: list[dict] = []

    def emit(line: dict) -> None:
        lines.append(line)
        print(json.dumps(line), flush=True)

    env = {"BCRYPT_ROUNDS": "4"} if target == "python" else {}
    async with bench_server(target, **env) as server:
        pids = server.pids()
        if target == "python":
            members, room_ids = await seed(server.url, args.clients, args.rooms)
        else:
            members, room_ids = synthetic_members(args.clients, args.rooms)
        room_size = {r: sum(1 for _, room in members if room == r) for r in room_ids}
        run = Run()
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        sockets: list[LeanSocket] = []
        try:
            sockets, connect_s = await connect_all(
                session, server.url, members, run, args.connect_timeout
            )
            await asyncio.sleep(1)
            base = {
                "target": target,
                "clients": args.clients,
                "rooms": args.rooms,
                "connect_s": round(connect_s, 2),
            }
            params = (server.url, pids, sockets, members, run)
            if args.saturate:
                best = None
                rate = args.rate
                while rate <= args.max_rate:
                    result = await trial(
                        *params, rate, args.seconds, args.senders, room_size, args.ack_timeout
                    )
                    ok = (
                        result["lost"] == 0
                        and result["failed"] == 0
                        and result["e2e_ms"]["p99"] < 100
                    )
                    emit({**base, **result, "pass": ok})
                    check_stalled(result, sockets)
                    if not ok:
                        break
                    best = rate
                    rate += args.step
                emit({**base, "saturation_msgs_per_s": best})
            else:
                result = await trial(
                    *params, args.rate, args.seconds, args.senders, room_size, args.ack_timeout
                )
                peak = {"server_peak_rss_mb": round(memory_kb(pids[0], "VmHWM") / 1024, 1),
                        "db_peak_rss_mb": round(sum(memory_kb(p, "VmHWM") for p in pids[1:]) / 1024, 1)}  # fmt: skip
                emit({**base, **result, **peak})
                check_stalled(result, sockets)
        finally:
            await close_all(sockets)
            await session.close()
    return lines


def ratio(a: float | None, b: float | None) -> float | None:
    if not a or not b or a != a or b != b:  # None, 0 or NaN
        return None
    return round(a / b, 2)


def ratios(python: list[dict], node: list[dict]) -> dict:
    """python/node for the first trial of each (same rate) and, saturating, the best rates."""
    p, n = python[0], node[0]
    out = {
        "ratio": "python/node",
        "rate": p.get("rate"),
        "connect_s": ratio(p.get("connect_s"), n.get("connect_s")),
        "e2e_p99_ms": ratio(p["e2e_ms"]["p99"], n["e2e_ms"]["p99"]),
        "cpu_us_per_delivery": ratio(p.get("cpu_us_per_delivery"), n.get("cpu_us_per_delivery")),
    }
    if "saturation_msgs_per_s" in python[-1]:
        out["saturation_msgs_per_s"] = ratio(
            python[-1]["saturation_msgs_per_s"], node[-1]["saturation_msgs_per_s"]
        )
    return out


async def main(args: argparse.Namespace) -> None:
    if not args.compare:
        await scenario(args, args.target)
        return
    python = await scenario(args, "python")
    node = await scenario(args, "node")
    print(json.dumps(ratios(python, node)), flush=True)


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
    parser.add_argument("--target", choices=["python", "node"], default="python")
    parser.add_argument("--compare", action="store_true", help="run python, then node; ratios")
    parser.add_argument("--ack-timeout", type=float, default=30, help="seconds per ack")
    parser.add_argument("--connect-timeout", type=float, default=60, help="seconds per socket")
    run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()

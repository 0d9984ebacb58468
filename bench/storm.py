"""Connection storms: many sockets connecting at once, and a server restart under load.

    python -m bench.storm --members 2000                    # (a) one room, everyone at once
    python -m bench.storm --members 2000 --compare          # (a) against Python, then Node
    python -m bench.storm --restart --sockets 5000 --room-size 500     # (b) restart

(a) N members of ONE room connect at the same moment. A socket is "ready" when it has its
    CONNECT packet and, on the Python server, its `online-users` (the Node reference has no
    presence: CONNECT only). A failed attempt is retried as socket.io-client would (backoff 1 s
    doubling to 5 s, ±50% jitter, 20 s per attempt); a socket not ready --give-up seconds (120)
    after the start gives up.
(b) S sockets in rooms of R get connected (not measured), the server goes idle, then it is
    restarted (SIGTERM, then started again on the same DATA_DIR and port), and once it answers
    /health every socket reconnects at the same moment (socket.io-client would spread them over
    its 0.5-1.5 s first backoff: this is the worst case). Reported: time until all are ready
    again, and time until the server's CPU (server + embedded database) is idle again: sampled
    every 0.5 s from /proc, idle = below 5% of a core for 2 samples in a row, bounded at 60 s
    after the reconnect phase; `cpu_idle_s` is when the first of those 2 samples began.
(c) Presence check (Python target): before the storm, --direct-pairs pairs of users get a direct
    room (POST /api/rooms/direct) and --small-rooms rooms of --small-size users are made. Then:
    - `storm`: each checked user's `online-users` must hold every direct/small-room peer that
      was ready before the user's own CONNECT (race-free: that peer's presence was recorded);
    - `fresh`: after the storm, one user of each pair / small room reconnects (at once, peers
      untouched, all connected) and its `online-users` must hold all its peers.

Every event received is counted by name and printed (unknown events never fail the run).
Prints one JSON line per target; with --compare a third line of python/node ratios. Progress
goes to stderr every 10 s. Every wait is bounded; a stall exits 1 saying what it waited for.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
import uuid
from collections import Counter
from typing import Any

import aiohttp

from bench.fanout import pct
from bench.procstat import cpu_seconds
from bench.protocol import CONNECT_TIMEOUT, LeanSocket, close_all
from bench.server import Server, Stalled, bench_server, run

IDLE_PCT = 5.0
IDLE_SAMPLES = 2
SAMPLE_S = 0.5
IDLE_BOUND_S = 60.0


def backoff(attempt: int) -> float:
    """socket.io-client: reconnectionDelay 1 s, doubling, max 5 s, randomizationFactor 0.5."""
    base = min(1.0 * 2 ** max(0, attempt - 1), 5.0)
    return base * random.uniform(0.5, 1.5)


class Stats:
    def __init__(self) -> None:
        self.events: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.closed_after_ready = 0


class Member:
    def __init__(self, index: int, user_id: str, token: str, stats: Stats) -> None:
        self.index = index
        self.user_id = user_id
        self.token = token
        self.stats = stats
        self.sock: LeanSocket | None = None
        self.online: set[str] | None = None
        self.ready = asyncio.Event()
        self.lost = asyncio.Event()
        self.connected_at: float | None = None  # seconds since the phase began
        self.ready_at: float | None = None
        self.t0 = 0.0

    def new_socket(self, session: aiohttp.ClientSession, url: str) -> LeanSocket:
        self.sock = LeanSocket(session, url, self.token, self.on_event, self.on_close)
        return self.sock

    def reset(self, t0: float) -> None:
        self.online = None
        self.ready = asyncio.Event()
        self.lost = asyncio.Event()
        self.connected_at = self.ready_at = None
        self.t0 = t0

    def on_event(self, name: str, payload: Any) -> None:
        self.stats.events[name] += 1
        if name == "online-users" and self.online is None:
            ids = payload.get("userIds", []) if isinstance(payload, dict) else []
            self.online = set(ids)
            self.ready_at = time.monotonic() - self.t0
            self.ready.set()

    def on_close(self, _sock: LeanSocket) -> None:
        if self.ready.is_set():
            self.stats.closed_after_ready += 1
        self.lost.set()


# -- seeding ------------------------------------------------------------------------------------


class Layout:
    """Who is in which room, and the presence peers of the checked users."""

    def __init__(self, users: int, room_size: int, pairs: int, small_rooms: int, small_size: int):
        self.users = users
        self.rooms = max(1, -(-users // room_size))
        self.room_of = [i % self.rooms for i in range(users)]
        self.pairs = [(2 * k, 2 * k + 1) for k in range(pairs) if 2 * k + 1 < users]
        first = 2 * len(self.pairs)
        self.small = [
            list(range(first + k * small_size, first + (k + 1) * small_size))
            for k in range(small_rooms)
            if first + (k + 1) * small_size <= users
        ]
        self.peers: dict[int, set[int]] = {}
        for a, b in self.pairs:
            self.peers.setdefault(a, set()).add(b)
            self.peers.setdefault(b, set()).add(a)
        for group in self.small:
            for i in group:
                self.peers.setdefault(i, set()).update(j for j in group if j != i)
        # One user of each pair / small room: reconnecting these leaves every peer connected.
        self.fresh = [a for a, _ in self.pairs] + [group[0] for group in self.small]


async def seed_python(url: str, layout: Layout) -> list[tuple[str, str]]:
    """Register the users, make the big rooms, direct rooms and small rooms. [(user_id, token)]"""
    tag = uuid.uuid4().hex[:6]
    gate = asyncio.Semaphore(64)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as http:

        async def post(path: str, body: dict, token: str | None = None) -> dict:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with gate, http.post(url + path, json=body, headers=headers) as resp:
                if resp.status >= 300:
                    raise RuntimeError(f"POST {path}: {resp.status} {await resp.text()}")
                return await resp.json()

        async def register(i: int) -> tuple[str, str]:
            body = {"name": f"u{i}", "email": f"u{i}-{tag}@bench.example", "password": "bench-pw-1"}
            reply = await post("/api/auth/register", body)
            return reply["user"]["id"], reply["token"]

        users = await asyncio.gather(*(register(i) for i in range(layout.users)))

        async def room_of(owner: int, others: list[int], name: str) -> None:
            room = (await post("/api/rooms", {"name": name}, users[owner][1]))["room"]["id"]
            await asyncio.gather(
                *(post(f"/api/rooms/{room}/join", {}, users[i][1]) for i in others)
            )

        owners = list(range(layout.rooms))  # user r is the first of room r (i % rooms)
        await asyncio.gather(
            *(
                room_of(r, [i for i in range(layout.users) if layout.room_of[i] == r and i != r], f"big {r}")
                for r in owners
            )
        )  # fmt: skip
        await asyncio.gather(
            *(post("/api/rooms/direct", {"userId": users[b][0]}, users[a][1]) for a, b in layout.pairs)
        )  # fmt: skip
        await asyncio.gather(
            *(room_of(g[0], g[1:], f"small {k}") for k, g in enumerate(layout.small))
        )
    return users


def seed_node(layout: Layout) -> list[tuple[str, str]]:
    return [(f"u{i}", f"u{i}:r{layout.room_of[i]}") for i in range(layout.users)]


# -- CPU ----------------------------------------------------------------------------------------


class CpuSampler:
    """Samples the server's CPU (all its processes) every 0.5 s; pids are re-read each time."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.samples: list[tuple[float, float, float]] = []  # (start, end, % of a core)
        self._task: asyncio.Task | None = None
        self._t0 = time.monotonic()

    def total(self) -> tuple[float, dict[int, float]]:
        per: dict[int, float] = {}
        for pid in self.server.pids():
            with contextlib.suppress(OSError):
                per[pid] = cpu_seconds(pid)
        return sum(per.values()), per

    async def _run(self) -> None:
        prev_t, (_, prev_per) = time.monotonic(), self.total()
        while True:
            await asyncio.sleep(SAMPLE_S)
            t, (_, per) = time.monotonic(), self.total()
            # A restart replaces the pids: a process not seen last time counts all its CPU.
            used = sum(per[p] - prev_per.get(p, 0.0) for p in per)
            self.samples.append((prev_t - self._t0, t - self._t0, 100 * used / (t - prev_t)))
            prev_t, prev_per = t, per

    def start(self, t0: float) -> None:
        self._t0 = t0
        self.samples = []
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def idle_since(self, after: float) -> float | None:
        """Start of the first run of IDLE_SAMPLES idle samples that ends after `after`."""
        run_start, count = None, 0
        for start, end, used in self.samples:
            if used < IDLE_PCT:
                run_start = start if count == 0 else run_start
                count += 1
                if count >= IDLE_SAMPLES and end >= after:
                    return run_start
            else:
                count = 0
        return None

    async def wait_idle(self, after: float, bound: float = IDLE_BOUND_S) -> float | None:
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            found = self.idle_since(after)
            if found is not None:
                return found
            await asyncio.sleep(SAMPLE_S)
        return self.idle_since(after)

    def peak(self, since: float = 0.0) -> float | None:
        values = [used for start, _, used in self.samples if start >= since]
        return round(max(values), 1) if values else None


# -- the storm ----------------------------------------------------------------------------------


async def storm(
    members: list[Member], give_up: float, need_online: bool, label: str,
    gate: asyncio.Semaphore | None = None,
) -> dict:  # fmt: skip
    """Connect every member at once (or through `gate`), retrying as socket.io-client would."""
    t0 = time.monotonic()
    give_up_at = t0 + give_up
    outcome: Counter[str] = Counter()

    async def one(m: Member) -> None:
        assert m.sock is not None
        attempt = 0
        while True:
            remaining = give_up_at - time.monotonic()
            if remaining <= 0:
                outcome["gave_up"] += 1
                return
            m.reset(t0)
            try:
                await m.sock.connect(min(CONNECT_TIMEOUT, remaining))
            except Exception as exc:  # refused, reset, timed out: all retried
                m.stats.failures[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
                attempt += 1
                await asyncio.sleep(min(backoff(attempt), max(0.0, give_up_at - time.monotonic())))
                continue
            m.connected_at = time.monotonic() - t0
            if not need_online:
                m.ready_at = m.connected_at
                m.ready.set()
                outcome["ready"] += 1
                return
            waits = [asyncio.ensure_future(m.ready.wait()), asyncio.ensure_future(m.lost.wait())]
            await asyncio.wait(
                waits,
                timeout=max(0.0, give_up_at - time.monotonic()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            for w in waits:
                w.cancel()
            if m.ready.is_set():
                outcome["ready"] += 1
                return
            if m.lost.is_set():
                m.stats.failures["closed before online-users"] += 1
                attempt += 1
                await asyncio.sleep(min(backoff(attempt), max(0.0, give_up_at - time.monotonic())))
                continue
            outcome["connected_without_online_users"] += 1
            await m.sock.close()  # gives up as a client would: it never saw the room state
            return

    async def gated(m: Member) -> None:
        if gate is None:
            await one(m)
        else:
            async with gate:
                await one(m)

    async def progress() -> None:
        while True:
            await asyncio.sleep(10)
            connected = sum(1 for m in members if m.connected_at is not None)
            ready = sum(1 for m in members if m.ready.is_set())
            print(
                f"bench.storm {label}: {time.monotonic() - t0:.0f} s, {connected} connected, "
                f"{ready} ready of {len(members)}, {outcome['gave_up']} gave up, "
                f"{sum(members[0].stats.failures.values())} failed attempts",
                file=sys.stderr,
                flush=True,
            )

    reporter = asyncio.create_task(progress())
    try:
        async with asyncio.timeout(give_up + CONNECT_TIMEOUT + 30):
            await asyncio.gather(*(gated(m) for m in members))
    except TimeoutError:
        ready = sum(1 for m in members if m.ready.is_set())
        raise Stalled(
            f"{label}: {len(members) - ready} of {len(members)} sockets not ready after "
            f"{give_up + CONNECT_TIMEOUT + 30:.0f} s (outcomes so far {dict(outcome)})"
        ) from None
    finally:
        reporter.cancel()
    elapsed = time.monotonic() - t0
    connect = [m.connected_at for m in members if m.connected_at is not None]
    ready_at = [m.ready_at for m in members if m.ready_at is not None and m.ready.is_set()]
    all_ready = outcome["ready"] == len(members)
    return {
        "ready": outcome["ready"],
        "gave_up": outcome["gave_up"],
        "connected_without_online_users": outcome["connected_without_online_users"],
        "failed_attempts": sum(members[0].stats.failures.values()) if members else 0,
        "all_ready_s": round(max(ready_at), 2) if all_ready and ready_at else None,
        "last_ready_s": round(max(ready_at), 2) if ready_at else None,
        "phase_s": round(elapsed, 2),
        "connect_s": {"p50": pct(connect, 50), "p99": pct(connect, 99)},
        "ready_s": {"p50": pct(ready_at, 50), "p99": pct(ready_at, 99)},
    }


# -- presence check -----------------------------------------------------------------------------


def storm_presence(members: list[Member], layout: Layout) -> dict:
    checked = correct = 0
    missing: list[str] = []
    for i, peers in sorted(layout.peers.items()):
        m = members[i]
        if m.online is None or m.connected_at is None:
            continue
        expected = {
            members[j].user_id
            for j in peers
            if members[j].ready_at is not None
            and members[j].ready.is_set()
            and members[j].ready_at < m.connected_at
        }
        checked += 1
        if expected <= m.online:
            correct += 1
        elif len(missing) < 5:
            missing.append(f"u{i} lacks {len(expected - m.online)} of {len(expected)}")
    return {"checked": checked, "correct": correct, "examples": missing}


async def fresh_presence(members: list[Member], layout: Layout) -> dict:
    """Reconnect one user of each pair / small room (at once) and check its online-users."""
    chosen = [members[i] for i in layout.fresh]
    for m in chosen:
        assert m.sock is not None
        await m.sock.close()
        m.lost.clear()
    t0 = time.monotonic()

    async def one(m: Member) -> str:
        assert m.sock is not None
        m.reset(t0)
        try:
            await m.sock.connect(CONNECT_TIMEOUT)
            async with asyncio.timeout(30):
                await m.ready.wait()
        except (TimeoutError, ConnectionError, aiohttp.ClientError) as exc:
            return f"u{m.index}: {type(exc).__name__}"
        assert m.online is not None
        expected = {
            members[j].user_id
            for j in layout.peers[m.index]
            if members[j].sock is not None and members[j].sock.connected
        }
        if expected <= m.online:
            return "ok"
        return f"u{m.index} lacks {len(expected - m.online)} of {len(expected)}"

    results = await asyncio.gather(*(one(m) for m in chosen))
    return {
        "checked": len(chosen),
        "correct": results.count("ok"),
        "seconds": round(time.monotonic() - t0, 2),
        "examples": [r for r in results if r != "ok"][:5],
    }


# -- scenarios ----------------------------------------------------------------------------------


async def scenario(args: argparse.Namespace, target: str) -> dict:
    restart = args.restart
    users = args.sockets if restart else args.members
    room_size = args.room_size if restart else users
    python = target == "python"
    layout = Layout(
        users,
        room_size,
        args.direct_pairs if python else 0,
        args.small_rooms if python else 0,
        args.small_size,
    )
    stats = Stats()
    env = {"BCRYPT_ROUNDS": "4"} if python else {}
    async with bench_server(target, **env) as server:
        seeded_at = time.monotonic()
        ids = await seed_python(server.url, layout) if python else seed_node(layout)
        seed_s = time.monotonic() - seeded_at
        members = [Member(i, uid, token, stats) for i, (uid, token) in enumerate(ids)]
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        sampler = CpuSampler(server)
        sockets = [m.new_socket(session, server.url) for m in members]
        out: dict[str, Any] = {
            "target": target,
            "scenario": "restart" if restart else "one-room",
            "sockets": users,
            "room_size": room_size,
            "rooms": layout.rooms,
            "seed_s": round(seed_s, 1),
        }
        try:
            if restart:
                label = "initial connect"
                setup = await storm(
                    members, args.setup_timeout, python, label, asyncio.Semaphore(250)
                )
                if setup["ready"] < len(members):
                    raise Stalled(f"{label}: {json.dumps(setup)}")
                out["initial_connect_s"] = setup["phase_s"]
                out["events_initial"] = dict(stats.events)
                sampler.start(time.monotonic())
                settle = time.monotonic()
                idle = await sampler.wait_idle(0.0)
                out["idle_before_restart_s"] = (
                    round(time.monotonic() - settle, 1) if idle is not None else None
                )
                await sampler.stop()
                stats.events.clear()
                stats.failures.clear()
                stop_s = await server.stop()
                down = time.monotonic()
                deadline = time.monotonic() + 15
                while any(s.connected for s in sockets) and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
                half_open = [s for s in sockets if s.connected]
                out["not_closed_by_restart"] = len(half_open)
                await close_all(half_open)
                out["events_during_shutdown"] = dict(stats.events)
                stats.events.clear()
                await server.start()
                out["stop_s"] = round(stop_s, 2)
                out["down_s"] = round(time.monotonic() - down, 2)
            t0 = time.monotonic()
            sampler.start(t0)
            cpu_before, _ = sampler.total()
            own_before = time.process_time()
            label = "reconnect storm" if restart else "storm"
            stats.closed_after_ready = 0
            result = await storm(members, args.give_up, python, label)
            cpu_storm = sampler.total()[0] - cpu_before
            own = time.process_time() - own_before
            out.update(result)
            out["server_cpu_s"] = round(cpu_storm, 2)
            out["server_cpu_ms_per_socket"] = round(1000 * cpu_storm / users, 2)
            out["loadgen_cpu_s"] = round(own, 2)
            out["failures"] = dict(stats.failures.most_common(5))
            if restart:
                end = time.monotonic() - t0
                idle = await sampler.wait_idle(end)
                out["cpu_idle_s"] = round(idle, 2) if idle is not None else None
                if idle is None:
                    out["cpu_still_busy_after_s"] = round(time.monotonic() - t0, 1)
                out["cpu_peak_pct"] = sampler.peak()
            await sampler.stop()
            out["events"] = dict(stats.events)
            out["closed_after_ready"] = stats.closed_after_ready
            if python and layout.peers:
                out["presence_storm"] = storm_presence(members, layout)
                out["presence_fresh"] = await fresh_presence(members, layout)
        finally:
            await sampler.stop()
            await close_all(sockets)
            await session.close()
    print(json.dumps(out), flush=True)
    return out


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


async def main(args: argparse.Namespace) -> None:
    if not args.compare:
        await scenario(args, args.target)
        return
    p = await scenario(args, "python")
    n = await scenario(args, "node")
    ratios = {
        "ratio": "python/node",
        "all_ready_s": ratio(p["all_ready_s"], n["all_ready_s"]),
        "last_ready_s": ratio(p["last_ready_s"], n["last_ready_s"]),
        "connect_p99_s": ratio(p["connect_s"]["p99"], n["connect_s"]["p99"]),
        "server_cpu_ms_per_socket": ratio(
            p["server_cpu_ms_per_socket"], n["server_cpu_ms_per_socket"]
        ),
    }
    if args.restart:
        ratios["cpu_idle_s"] = ratio(p.get("cpu_idle_s"), n.get("cpu_idle_s"))
    print(json.dumps(ratios), flush=True)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000, help="(a) sockets in the one room")
    parser.add_argument("--restart", action="store_true", help="(b) the restart scenario")
    parser.add_argument("--sockets", type=int, default=5000, help="(b) sockets")
    parser.add_argument("--room-size", type=int, default=500, help="(b) members per room")
    parser.add_argument("--give-up", type=float, default=120, help="seconds per socket")
    parser.add_argument("--setup-timeout", type=float, default=600, help="(b) initial connect")
    parser.add_argument("--direct-pairs", type=int, default=10)
    parser.add_argument("--small-rooms", type=int, default=10)
    parser.add_argument("--small-size", type=int, default=5)
    parser.add_argument("--target", choices=["python", "node"], default="python")
    parser.add_argument("--compare", action="store_true", help="run python, then node; ratios")
    run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()

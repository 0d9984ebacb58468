"""Idle memory: RSS of the server per authenticated, idle socket.

    python -m bench.idle --sockets 5000

Starts the real server, registers a few hundred users (sockets share users, 10 each), measures the
server's RSS, connects N authenticated websockets that then do nothing but answer pings, waits,
and measures again. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time

import aiohttp

from bench.fanout import seed
from bench.procstat import memory_kb
from bench.protocol import LeanSocket
from bench.server import running_server


async def main(args: argparse.Namespace) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with running_server(BCRYPT_ROUNDS="4") as (url, process):
        users = max(1, args.sockets // 10)
        members, _ = await seed(url, users, max(1, users // 10))  # rooms of 10: no presence storm
        await asyncio.sleep(2)
        before = memory_kb(process.pid)
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        sockets = [
            LeanSocket(session, url, members[i % users][0], lambda *_: None)
            for i in range(args.sockets)
        ]
        started = time.monotonic()
        for start in range(0, len(sockets), 250):
            await asyncio.gather(*(s.connect() for s in sockets[start : start + 250]))
        connect_s = time.monotonic() - started
        await asyncio.sleep(args.settle)
        after = memory_kb(process.pid)
        print(json.dumps({
            "sockets": args.sockets,
            "connect_s": round(connect_s, 1),
            "server_rss_mb_before": round(before / 1024, 1),
            "server_rss_mb_after": round(after / 1024, 1),
            "kb_per_socket": round((after - before) / args.sockets, 1),
            "projected_rss_mb_at_10000": round((before + (after - before) / args.sockets * 10_000) / 1024, 1),
        }))  # fmt: skip
        for sock in sockets:
            await sock.close()
        await session.close()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--settle", type=float, default=10, help="seconds idle before measuring")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()

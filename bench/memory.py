"""Where an idle socket's memory goes: tracemalloc over the server, grouped by package.

    python -m bench.memory --sockets 1000

Runs the real app in this process (embedded database in its own), connects N authenticated
websockets with the lean load generator, and compares tracemalloc snapshots taken before and
after. The load generator's own allocations (aiohttp's client modules, bench/) are left out, so
the figures are the server's. Prints one JSON line: bytes per socket in all and by package.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import tempfile
import tracemalloc
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.protocol import LeanSocket
from chat.app import create_app
from chat.store.embedded import EmbeddedMongo
from config.settings import Settings

CLIENT_SIDE = ("/aiohttp/client", "/aiohttp/connector", "/bench/")


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/chat/" in filename:
        return "chat"
    if "/asyncio/" in filename:
        return "asyncio"
    return "other (stdlib)"


async def measure(uri: str, sockets: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    settings = Settings(
        jwt_secret="bench-" + "x" * 60, mongodb_uri=uri, mongodb_db="mem" + uuid.uuid4().hex[:6],
        data_dir=data, bcrypt_rounds=4, log_level="warning",
        rate_limit_auth="1000000/minute", rate_limit_api="1000000/minute",
    )  # fmt: skip
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}"
    tokens = []
    async with aiohttp.ClientSession() as http:
        for i in range(max(1, sockets // 10)):  # ten sockets per user, as bench.idle
            body = {"name": f"u{i}", "email": f"u{i}@bench.example", "password": "bench-password"}
            async with http.post(url + "/api/auth/register", json=body) as resp:
                tokens.append((await resp.json())["token"])
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    try:
        await asyncio.sleep(1)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        conns = [
            LeanSocket(session, url, tokens[i % len(tokens)], lambda *_: None)
            for i in range(sockets)
        ]
        for start in range(0, sockets, 200):
            await asyncio.gather(*(c.connect() for c in conns[start : start + 200]))
        await asyncio.sleep(3)
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        by_package: Counter[str] = Counter()
        for stat in after.compare_to(before, "filename"):
            filename = stat.traceback[0].filename
            if not any(part in filename for part in CLIENT_SIDE):
                by_package[_package(filename)] += stat.size_diff
        for conn in conns:
            await conn.close()
    finally:
        await session.close()
        await runner.cleanup()
    total = sum(by_package.values())
    return {
        "sockets": sockets,
        "server_bytes_per_socket": round(total / sockets),
        "by_package": {k: round(v / sockets) for k, v in by_package.most_common() if v > 0},
    }


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    mongo = EmbeddedMongo(data_dir=None)
    mongo.start()
    try:
        print(json.dumps(asyncio.run(measure(mongo.uri, args.sockets))), flush=True)
    finally:
        mongo.stop()


if __name__ == "__main__":
    cli()

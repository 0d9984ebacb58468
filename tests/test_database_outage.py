"""A dead database: sends answer UNAVAILABLE within 3 seconds, sockets live on, and all recovers."""

from __future__ import annotations

import dataclasses
import time

from chat.app import create_app
from tests.helpers import RestartableMongo, eventually
from tests.realtime import Chat


async def test_outage_answers_unavailable_and_recovers_without_restart(
    aiohttp_server, aiohttp_client, settings, restartable_mongo: RestartableMongo
):
    database = restartable_mongo
    server = await aiohttp_server(
        create_app(dataclasses.replace(settings, mongodb_uri=database.uri))
    )
    chat = Chat(server, await aiohttp_client(server))
    try:
        ann = await chat.user("Ann")
        room = await chat.room(ann)
        a = await chat.socket(ann)
        before = await a.call(
            "send-message", {"roomId": room["id"], "text": "before", "clientId": "k1"}
        )
        assert before["ok"] is True

        database.kill()  # SIGKILL, as a crash would
        started = time.monotonic()
        ack = await a.call(
            "send-message", {"roomId": room["id"], "text": "during", "clientId": "k2"}
        )
        assert time.monotonic() - started < 3
        assert ack == {
            "ok": False,
            "error": {"code": "UNAVAILABLE", "message": "Database unavailable"},
        }
        status, body = await chat.api("GET", "/api/rooms/mine", ann)
        assert (status, body["error"]["code"]) == (503, "UNAVAILABLE")
        assert a.sio.connected

        await database.restart()
        ack = await eventually(
            lambda: a.call(
                "send-message", {"roomId": room["id"], "text": "during", "clientId": "k2"}
            ),
            lambda ack: ack["ok"],
        )
        assert ack["ok"] is True
        assert ack["message"]["seq"] == 2  # the refused send stored nothing and took no number
        _, history = await chat.api("GET", f"/api/rooms/{room['id']}/messages", ann)
        assert [m["text"] for m in history["messages"]] == ["before", "during"]
    finally:
        await chat.close()

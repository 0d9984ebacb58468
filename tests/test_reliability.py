"""docs/RELIABILITY.md's promises, each attacked on loopback with bounded loops.

Promises proven elsewhere: exactly once per clientId (test_messaging.py), a stalled reader cut
off (test_backpressure.py), binary packets refused (test_socket_connect.py), typing floods dropped
(test_presence_typing.py). The ones needing whole processes are in test_reliability_processes.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from chat.app import create_app
from tests.helpers import RestartableMongo, all_history
from tests.realtime import Chat


@pytest.mark.slow
async def test_promise_one_order_per_room(aiohttp_server, aiohttp_client, settings):
    server = await aiohttp_server(
        create_app(dataclasses.replace(settings, rate_limit_messages="5000/10seconds"))
    )
    chat = Chat(server, await aiohttp_client(server))
    try:
        owner = await chat.user("Owner")
        room = await chat.room(owner)
        senders = [await chat.user(f"S{i}") for i in range(3)]
        receivers = [await chat.user(f"R{i}") for i in range(2)]
        for user in senders + receivers:
            await chat.join(user, room)
        out = [await chat.socket(u) for u in senders]
        ins = [await chat.socket(u) for u in receivers]

        async def stream(i: int) -> list[dict]:
            return await asyncio.gather(
                *(
                    # 300 wait in one socket's inbox: the last ack comes after all the others,
                    # however slow the machine, so its bound is the test's own.
                    out[i].call(
                        "send-message", {"roomId": room["id"], "text": f"{i}:{n}"}, timeout=110
                    )
                    for n in range(300)
                )
            )

        acks = [
            ack for batch in await asyncio.gather(*(stream(i) for i in range(3))) for ack in batch
        ]
        assert all(ack["ok"] for ack in acks)
        for peer in ins:
            await peer.wait_for("new-message", lambda m: m["seq"] == 900, timeout=30)
        history = await all_history(chat.api, room["id"], owner)
        order = [m["id"] for m in history]
        assert [m["seq"] for m in history] == list(range(1, 901))
        for peer in ins:
            assert [m["id"] for m in peer.got("new-message")] == order
        # Each sender's own messages keep that sender's order too.
        for i in range(3):
            mine = [m["text"] for m in history if m["text"].startswith(f"{i}:")]
            assert mine == [f"{i}:{n}" for n in range(300)]
    finally:
        await chat.close()


@pytest.mark.slow
async def test_promise_acked_messages_survive_a_database_kill(
    aiohttp_server, aiohttp_client, settings, restartable_mongo: RestartableMongo
):
    database = restartable_mongo
    server = await aiohttp_server(
        create_app(
            dataclasses.replace(
                settings, mongodb_uri=database.uri, rate_limit_messages="100000/10seconds"
            )
        )
    )
    chat = Chat(server, await aiohttp_client(server))
    try:
        ann = await chat.user("Ann")
        room = await chat.room(ann)
        a = await chat.socket(ann)
        acked: dict[str, dict] = {}
        refused: list[str] = []
        slowest_refusal = 0.0
        health: list[int] = []

        async def fault() -> None:
            await asyncio.sleep(1.0)
            database.kill()  # SIGKILL in the middle of the stream
            health.append((await chat.rest.get("/health")).status)
            await asyncio.sleep(2.0)
            await database.restart()

        faulty = asyncio.create_task(fault())
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < 8 and n < 2000:
            client_id = f"c{n}"
            sent = time.monotonic()
            ack = await a.call(
                "send-message", {"roomId": room["id"], "text": f"m{n}", "clientId": client_id}
            )
            if ack["ok"]:
                acked[client_id] = ack["message"]
            else:
                assert ack["error"]["code"] == "UNAVAILABLE", ack
                refused.append(client_id)
                slowest_refusal = max(slowest_refusal, time.monotonic() - sent)
            n += 1
        await faulty
        health.append((await chat.rest.get("/health")).status)
        assert refused, "the outage was not noticed"
        assert slowest_refusal < 3
        assert health == [503, 200]
        # A client resends what was refused, with the same clientIds: the server has recovered.
        for client_id in refused:
            ack = await a.call(
                "send-message",
                {"roomId": room["id"], "text": f"m{client_id[1:]}", "clientId": client_id},
            )
            assert ack["ok"], ack
            acked[client_id] = ack["message"]
        stored = await all_history(chat.api, room["id"], ann)
        by_client = {}
        for message in stored:
            assert message["clientId"] not in by_client, "duplicate"
            by_client[message["clientId"]] = message
        lost = [cid for cid, msg in acked.items() if by_client.get(cid, {}).get("id") != msg["id"]]
        print(
            f"\nsent={n} acked_first_time={n - len(refused)} refused={len(refused)} "
            f"stored={len(stored)} lost={len(lost)} slowest_refusal={slowest_refusal:.2f}s"
        )
        assert lost == []
        assert len(stored) == n
    finally:
        await chat.close()

"""Catch-up timing: sync by change cursor after 1,000 changes in one room, page by page.

    python -m bench.catch_up [--changes 1000] [--repeat 5]

Starts the real server (embedded database), fills a room with 300 messages (the client's cursor
is taken there), then makes the changes one reader missed: 60% new messages, 25% edits and 15%
reactions of messages it held. Then it times the catch-up the reader does after a reconnect:
`sync {rooms: {id: {ver}}}` over a socket until `hasMore` is false (100 messages a page), and the
same through `GET /api/rooms/{id}/changes`. Prints one JSON line (milliseconds; the median of
`--repeat` catch-ups, each from the same cursor).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import aiohttp
import socketio

from bench.server import running_server

SEED = 300


async def _account(http: aiohttp.ClientSession, url: str, name: str) -> str:
    reg = await http.post(f"{url}/api/auth/register", json={
        "name": name, "email": f"{name}@example.com", "password": "bench-password"})  # fmt: skip
    return (await reg.json())["token"]


async def _call(client: socketio.AsyncClient, event: str, payload: dict) -> dict:
    ack = await client.call(event, payload, timeout=60)
    assert ack["ok"], ack
    return ack


async def measure(url: str, changes: int, repeat: int) -> dict:
    async with aiohttp.ClientSession() as http:
        writer, reader = await _account(http, url, "writer"), await _account(http, url, "reader")
        auth = {"Authorization": f"Bearer {writer}"}
        room = await http.post(f"{url}/api/rooms", json={"name": "bench"}, headers=auth)
        room_id = (await room.json())["room"]["id"]
        await http.post(
            f"{url}/api/rooms/{room_id}/join",
            json={},
            headers={"Authorization": f"Bearer {reader}"},
        )
        a = socketio.AsyncClient(reconnection=False)
        await a.connect(url, auth={"token": writer}, transports=["websocket"])
        held = [
            (await _call(a, "send-message", {"roomId": room_id, "text": f"seed {i}"}))["message"]
            for i in range(SEED)
        ]
        cursor = held[-1]["ver"]
        sends, edits = changes * 60 // 100, changes * 25 // 100
        reactions = changes - sends - edits
        for i in range(sends):
            await _call(a, "send-message", {"roomId": room_id, "text": f"new {i}"})
        for i in range(edits):
            target = held[i % SEED]["id"]
            await _call(a, "edit-message", {"messageId": target, "text": f"edit {i}"})
        for i in range(reactions):
            target = held[(SEED - 1 - i) % SEED]["id"]
            await _call(a, "react-message", {"messageId": target, "emoji": "👍"})
        await a.disconnect()

        b = socketio.AsyncClient(reconnection=False)
        await b.connect(url, auth={"token": reader}, transports=["websocket"])
        socket_runs, rest_runs, page_ms = [], [], []
        for _ in range(repeat):
            started, at, got, pages = time.perf_counter(), cursor, 0, 0
            while True:
                t0 = time.perf_counter()
                ack = await _call(b, "sync", {"rooms": {room_id: {"ver": at}}})
                page_ms.append((time.perf_counter() - t0) * 1000)
                [entry] = ack["rooms"]
                got, at, pages = got + len(entry["messages"]), entry["ver"], pages + 1
                if not entry["hasMore"]:
                    break
            socket_runs.append((time.perf_counter() - started) * 1000)
            assert at == cursor + changes, (at, cursor, changes)

            started, since, rest_got = time.perf_counter(), cursor, 0
            headers = {"Authorization": f"Bearer {reader}"}
            while True:
                resp = await http.get(
                    f"{url}/api/rooms/{room_id}/changes", params={"since": since}, headers=headers
                )
                page = await resp.json()
                rest_got, since = rest_got + len(page["messages"]), page["ver"]
                if not page["hasMore"]:
                    break
            rest_runs.append((time.perf_counter() - started) * 1000)
            assert rest_got == got
        await b.disconnect()
    return {
        "changes": changes,
        "messages_returned": got,
        "pages": pages,
        "sync_total_ms_median": round(statistics.median(socket_runs), 1),
        "sync_page_ms_median": round(statistics.median(page_ms), 2),
        "sync_page_ms_max": round(max(page_ms), 2),
        "rest_total_ms_median": round(statistics.median(rest_runs), 1),
        "repeat": repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with running_server() as (url, _):
        print(json.dumps(asyncio.run(measure(url, args.changes, args.repeat))))


if __name__ == "__main__":
    main()

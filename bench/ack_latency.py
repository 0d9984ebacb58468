"""Ack latency of send-message: N sequential sends on one socket, p50/p99 in milliseconds.

    python -m bench.ack_latency [--sends 1000]

Starts the real server (embedded database), registers a user, creates a room, then sends one
message at a time and waits for its ack (stored before acked). Prints one JSON line.
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


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(url: str, sends: int) -> dict:
    async with aiohttp.ClientSession() as http:
        reg = await http.post(f"{url}/api/auth/register", json={
            "name": "Bench", "email": "bench@example.com", "password": "bench-password"})  # fmt: skip
        token = (await reg.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        room = await http.post(f"{url}/api/rooms", json={"name": "bench"}, headers=headers)
        room_id = (await room.json())["room"]["id"]
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, auth={"token": token}, transports=["websocket"])
    for i in range(20):  # warm-up
        await client.call("send-message", {"roomId": room_id, "text": f"warm {i}"})
    latencies = []
    for i in range(sends):
        started = time.perf_counter()
        ack = await client.call(
            "send-message", {"roomId": room_id, "text": f"m{i}", "clientId": f"c{i}"}
        )
        latencies.append((time.perf_counter() - started) * 1000)
        assert ack["ok"], ack
    await client.disconnect()
    return {
        "sends": sends,
        "ack_ms_p50": round(percentile(latencies, 50), 2),
        "ack_ms_p99": round(percentile(latencies, 99), 2),
        "ack_ms_mean": round(statistics.fmean(latencies), 2),
        "ack_ms_max": round(max(latencies), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=1000)
    args = parser.parse_args()
    with running_server() as (url, _):
        print(json.dumps(asyncio.run(measure(url, args.sends))))


if __name__ == "__main__":
    main()

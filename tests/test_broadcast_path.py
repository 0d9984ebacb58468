"""Broadcasts written straight to websockets keep each socket's send order; stalled readers go."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
from typing import Any

import pytest
from socketio import packet

from chat.api.keys import SOCKET_IO
from chat.app import create_app
from chat.realtime.channels import room_channel
from chat.realtime.wire import HIGH_WATER
from tests.realtime import Chat, Peer

# The packets compared: server-driven ticks (some asking for an ack: `2<id>[...`), the app's own
# broadcasts, and acks (`3<id>[...`, all through Engine.IO's queue). Presence events come and go
# on their own schedule.
WATCHED = re.compile(r'2\d*\["(tick|new-message)"|3')
TICK = re.compile(r'2\d*(\["tick".*)')


def watched(data: Any) -> bool:
    return isinstance(data, str) and WATCHED.match(data) is not None


def tick_numbers(packets: list[str]) -> list[int]:
    ticks = (TICK.fullmatch(p) for p in packets)
    return [json.loads(t.group(1))[1]["n"] for t in ticks if t]


def record_arrivals(peer: Peer) -> list[str]:
    """Every Socket.IO packet the client's Engine.IO layer hands up, in arrival order."""
    arrived: list[str] = []
    handlers = peer.sio.eio.handlers
    handle = handlers["message"]

    async def record(data: Any) -> None:
        # engineio's client runs this in one task per message, started in arrival order.
        if watched(data):
            arrived.append(data)
        await handle(data)

    handlers["message"] = record
    return arrived


def record_sends(sock: Any) -> dict[str, Any]:
    """What the server sends one socket, in the order it is sent: queued or written directly."""
    log: dict[str, Any] = {"sent": [], "direct": 0, "queued": 0, "fell_back": 0, "peak_buffer": 0}
    wire = sock.wire
    put, write_now = sock.queue.put_nowait, wire.write_now

    def queued(pkt: Any) -> None:
        put(pkt)
        if pkt is not None and pkt.packet_type == 4 and watched(pkt.data):
            log["sent"].append(pkt.data)
            log["queued"] += 1
            log["fell_back"] += '"pad"' in pkt.data  # only room broadcasts carry a pad

    def direct(frame: bytes) -> bool:
        log["peak_buffer"] = max(log["peak_buffer"], wire.transport.get_write_buffer_size())
        if not write_now(frame):
            return False
        payload = frame[2 + {126: 2, 127: 8}.get(frame[1], 0) :].decode()
        assert payload[0] == "4"  # an Engine.IO MESSAGE
        if watched(payload[1:]):
            log["sent"].append(payload[1:])
            log["direct"] += 1
        return True

    sock.queue.put_nowait = queued
    wire.write_now = direct
    return log


async def until(condition: Any, limit: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)


def server_socket(chat: Chat, peer: Peer) -> Any:
    sio = chat.server.app[SOCKET_IO]
    return sio.eio.sockets[sio.manager.eio_sid_from_sid(peer.sio.get_sid("/"), "/")]


async def test_interleaved_direct_and_queued_packets_arrive_in_send_order(
    aiohttp_server, aiohttp_client, settings
):
    server = await aiohttp_server(create_app(settings))
    chat = Chat(server, await aiohttp_client(server))
    try:
        ann, bob = await chat.user("Ann"), await chat.user("Bob")
        room = await chat.room(ann)
        await chat.join(bob, room)
        a, b = await chat.socket(ann), await chat.socket(bob)
        await b.call("user-status", {"userIds": [ann.id]})  # anything sent before is through
        sio = chat.server.app[SOCKET_IO]
        sock = server_socket(chat, b)
        assert sock.wire is not None, "a websocket client must get the direct path"
        # Small kernel buffers, and Bob not reading for a third of the burst, so the connection's
        # own write buffer fills and both backpressure paths (queue fallback, writer waiting to
        # drain) are taken.
        sock.wire.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
        )
        client_transport = b.sio.eio.ws._response.connection.transport
        client_socket = client_transport.get_extra_info("socket")
        client_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        arrived = record_arrivals(b)
        log = record_sends(sock)
        b_sid, channel, pad = b.sio.get_sid("/"), room_channel(room["id"]), "x" * 3000

        async def bob_asks() -> None:  # real acks, at moments the server decides
            for _ in range(30):
                await b.call("user-status", {"userIds": [ann.id]})

        async def ann_sends() -> None:  # real broadcasts: stored, acked, then fanned out
            for k in range(20):
                ack = await a.call("send-message", {"roomId": room["id"], "text": f"m{k}"})
                assert ack["ok"], ack

        clients = asyncio.gather(bob_asks(), ann_sends())
        for i in range(600):
            kind = i % 6
            if kind in (0, 1, 3):  # a room broadcast: direct unless something is ahead
                await sio.emit("tick", {"n": i, "pad": pad}, to=channel)
            elif kind == 2:  # the way acks are sent: onto the Engine.IO queue, no pause
                await sio._send_packet(
                    sock.sid, sio.packet_class(packet.EVENT, namespace="/", data=["tick", {"n": i}])
                )
            elif kind == 4:  # one recipient, no ack: the broadcast path
                await sio.emit("tick", {"n": i}, to=b_sid)
            else:  # one recipient with a callback: python-socketio queues it
                await sio.emit("tick", {"n": i}, to=b_sid, callback=lambda *_: None)
            if i == 200:
                client_transport.pause_reading()
            elif i == 400:
                client_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                client_transport.resume_reading()
            if i % 7 == 0:
                await asyncio.sleep(0)  # now and then, let the writer task run mid-burst
        await clients
        await until(lambda: len(arrived) >= len(log["sent"]))

        assert arrived == log["sent"]
        assert tick_numbers(arrived) == list(range(600))
        assert sum(p.startswith('2["new-message"') for p in arrived) == 20
        assert sum(p.startswith("3") for p in arrived) == 30
        # Both ways in were used, and the buffer went past the mark, so fallbacks happened.
        assert log["direct"] > 0
        assert log["fell_back"] > 0
        assert log["peak_buffer"] > HIGH_WATER
        assert a.sio.connected and b.sio.connected
    finally:
        await chat.close()


@pytest.mark.slow
async def test_a_websocket_that_stops_reading_is_cut_off_and_its_connection_closed(
    aiohttp_server, aiohttp_client, settings
):
    changed = dataclasses.replace(settings, socket_queue_limit=50)
    server = await aiohttp_server(create_app(changed))
    chat = Chat(server, await aiohttp_client(server))
    try:
        ann, bob, slow = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Slow")
        room = await chat.room(ann)
        for user in (bob, slow):
            await chat.join(user, room)
        b, s = await chat.socket(bob), await chat.socket(slow)
        sio = chat.server.app[SOCKET_IO]
        stalled = server_socket(chat, s)
        server_transport = stalled.wire.transport
        server_transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
        )
        client_transport = s.sio.eio.ws._response.connection.transport
        client_transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_RCVBUF, 4096
        )
        client_transport.pause_reading()  # from here on the slow client reads nothing
        arrived = record_arrivals(b)

        channel, pad, sent = room_channel(room["id"]), "y" * 4000, 0
        while sent < 20_000 and stalled.sid in sio.eio.sockets:
            await sio.emit("tick", {"n": sent, "pad": pad}, to=channel)
            sent += 1
            await asyncio.sleep(0.001)  # watch_queues looks every 0.5 s
        await until(lambda: stalled.sid not in sio.eio.sockets)

        assert stalled.sid not in sio.eio.sockets, "the stalled socket was not cut off"
        assert server_transport.is_closing(), "its connection was left open"
        # Bob read along the whole time and got every tick, in order.
        await until(lambda: len(arrived) >= sent)
        assert tick_numbers(arrived) == list(range(sent))
        assert b.sio.connected
        client_transport.resume_reading()
        await until(lambda: not s.sio.connected)
        assert not s.sio.connected
    finally:
        await chat.close()


async def test_a_broadcast_does_not_overtake_the_batch_the_writer_holds(
    aiohttp_server, aiohttp_client, settings
):
    server = await aiohttp_server(create_app(settings))
    chat = Chat(server, await aiohttp_client(server))
    try:
        ann, bob = await chat.user("Ann"), await chat.user("Bob")
        room = await chat.room(ann)
        await chat.join(bob, room)
        await chat.socket(ann)
        b = await chat.socket(bob)
        await b.wait_for("online-users")  # the last packet the server sends on its own
        sio = chat.server.app[SOCKET_IO]
        sock = server_socket(chat, b)
        wire = sock.wire
        wire.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
        )
        client_transport = b.sio.eio.ws._response.connection.transport
        client_socket = client_transport.get_extra_info("socket")
        client_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        arrived = record_arrivals(b)
        log = record_sends(sock)
        client_transport.pause_reading()
        # Through the queue while the client reads nothing: engineio's writer takes the whole
        # batch, writes until the connection's buffer is full, then waits holding the rest.
        pad = "z" * 20_000
        for i in range(100):
            await sio._send_packet(
                sock.sid,
                sio.packet_class(packet.EVENT, namespace="/", data=["tick", {"n": i, "pad": pad}]),
            )
        await until(lambda: wire.holding and sock.queue.qsize() == 0)
        assert wire.holding and not sock.queue.qsize(), "the writer never waited mid-batch"
        client_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        client_transport.resume_reading()
        deadline = asyncio.get_running_loop().time() + 20
        # Spin, never sleeping, so this task runs before the writer once the buffer has room.
        while wire.transport.get_write_buffer_size() > HIGH_WATER:
            assert asyncio.get_running_loop().time() < deadline, "the buffer never drained"
            await asyncio.sleep(0)
        assert wire.holding, "the writer went on before this task: nothing left to overtake"
        assert not sock.queue.qsize()
        # The buffer has room and the queue is empty, yet the writer holds ticks 57 and on.
        await sio.emit("tick", {"n": 100}, to=room_channel(room["id"]))

        await until(lambda: len(tick_numbers(arrived)) >= 101)
        assert tick_numbers(arrived) == list(range(101))
        assert arrived == log["sent"]
    finally:
        await chat.close()

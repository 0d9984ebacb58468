"""A client that stops reading is disconnected once its queue passes the bound; others carry on."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket

import pytest

from chat.api.keys import SOCKET_IO
from chat.app import create_app
from tests.realtime import Chat


@pytest.mark.slow
async def test_stalled_reader_is_cut_off_and_others_are_unaffected(
    aiohttp_server, aiohttp_client, settings
):
    changed = dataclasses.replace(
        settings, socket_queue_limit=50, rate_limit_messages="100000/10seconds"
    )
    server = await aiohttp_server(create_app(changed))
    chat = Chat(server, await aiohttp_client(server))
    try:
        ann, bob, slow = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Slow")
        room = await chat.room(ann)
        for user in (bob, slow):
            await chat.join(user, room)
        a, b = await chat.socket(ann), await chat.socket(bob)

        # A raw Engine.IO websocket that connects, authenticates and then never reads again.
        ws = await chat.rest.session.ws_connect(f"{chat.url}/socket.io/?EIO=4&transport=websocket")
        await ws.receive()  # the Engine.IO open packet
        await ws.send_str("40" + json.dumps({"token": slow.token}))
        await ws.receive()  # CONNECT ack; from here on nothing is read
        transport = ws._response.connection.transport  # the client's TCP transport
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        transport.pause_reading()

        sio = chat.server.app[SOCKET_IO]
        count_before = len(sio.eio.sockets)
        text = "x" * 4000
        # Loopback kernel buffers can hold about 10 MB before the server's queue grows at all:
        # send up to 20 MB, bounded in count and in time, stopping as soon as the cut comes.
        deadline = asyncio.get_running_loop().time() + 60
        for _ in range(200):
            acks = await asyncio.gather(
                *(a.call("send-message", {"roomId": room["id"], "text": text}) for _ in range(25))
            )
            assert all(ack["ok"] for ack in acks)
            if len(sio.eio.sockets) < count_before or asyncio.get_running_loop().time() > deadline:
                break
        await asyncio.sleep(1)
        assert len(sio.eio.sockets) == count_before - 1, "the stalled socket was not cut off"
        # Bob kept up the whole time and still gets everything.
        last = acks[-1]["message"]["seq"]
        await b.wait_for("new-message", lambda m: m["seq"] == last, timeout=10)
        assert a.sio.connected and b.sio.connected
        await ws.close()
    finally:
        await chat.close()

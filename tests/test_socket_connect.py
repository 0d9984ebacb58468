"""Socket.IO connections: the three ways to authenticate, refusals, origins, binary packets."""

from __future__ import annotations

import asyncio

import pytest
import socketio

from tests.helpers import ORIGIN


async def _refused(chat, **kw) -> dict:
    client = socketio.AsyncClient(reconnection=False)
    errors: list = []
    client.on("connect_error", lambda data: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(chat.url, transports=["websocket"], wait_timeout=30, **kw)
    await client.disconnect()
    # python-socketio hands over {message, data}; JS clients see err.message and err.data.
    assert errors, "no connect_error"
    assert errors[0]["message"] == errors[0]["data"]["message"]
    return errors[0]["data"]


async def test_connect_with_auth_token_cookie_and_bearer(chat):
    ann = await chat.user("Ann")
    by_auth = await chat.socket(ann)
    by_cookie = await chat.socket(headers={"Cookie": f"token={ann.token}"})
    by_bearer = await chat.socket(headers={"Authorization": f"Bearer {ann.token}"})
    for peer in (by_auth, by_cookie, by_bearer):
        assert peer.sio.connected
        assert await peer.wait_for("online-users") == {"userIds": []}
        ack = await peer.call("user-status", {"status": "away"})
        assert ack == {"ok": True}


async def test_polling_then_upgrade(chat):
    ann = await chat.user("Ann")
    peer = await chat.socket(ann, transports=["polling", "websocket"])
    assert (await peer.call("user-status", {"status": "busy"}))["ok"] is True


@pytest.mark.parametrize(
    "auth", [None, {"token": "garbage"}, {"token": 5}, {"token": {"$gt": ""}}, "not-a-dict"]
)
async def test_refused_without_a_good_token(chat, auth):
    data = await _refused(chat, auth=auth)
    assert data["code"] == "UNAUTHORIZED"
    assert data["message"]


async def test_refused_after_logout(chat):
    ann = await chat.user("Ann")
    status, _ = await chat.api("POST", "/api/auth/logout", ann)
    assert status == 200
    data = await _refused(chat, auth={"token": ann.token})
    assert data == {"code": "UNAUTHORIZED", "message": "Session expired"}


async def test_foreign_origin_handshake_refused(chat):
    ann = await chat.user("Ann")
    client = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            chat.url, auth={"token": ann.token}, headers={"Origin": "https://evil.example"},
            transports=["polling"], wait_timeout=30,
        )  # fmt: skip
    await client.disconnect()
    allowed = await chat.socket(ann, headers={"Origin": ORIGIN})
    assert allowed.sio.connected


async def test_binary_packet_is_refused_without_buffering(chat):
    ann = await chat.user("Ann")
    peer = await chat.socket(ann)
    disconnected = asyncio.Event()
    peer.sio.on("disconnect", lambda *a: disconnected.set())
    # A BINARY_EVENT announcing one attachment; the server must drop the connection at once.
    await peer.sio.emit("send-message", {"roomId": "0" * 24, "blob": b"\x00" * 1000})
    await asyncio.wait_for(disconnected.wait(), 5)
    assert not peer.sio.connected
    # Other connections are unaffected.
    other = await chat.socket(ann)
    assert (await other.call("user-status", {"status": "online"}))["ok"] is True


async def test_token_expiry_disconnects_the_socket(aiohttp_server, aiohttp_client, settings):
    import dataclasses

    from chat.app import create_app
    from tests.realtime import Chat

    server = await aiohttp_server(create_app(dataclasses.replace(settings, jwt_expires_in=2)))
    chat = Chat(server, await aiohttp_client(server))
    try:
        ann = await chat.user("Ann")
        peer = await chat.socket(ann)
        expired = await peer.wait_for("session-expired", timeout=6)
        assert expired == {"reason": "expired"}
        for _ in range(50):
            if not peer.sio.connected:
                break
            await asyncio.sleep(0.05)
        assert not peer.sio.connected
    finally:
        await chat.close()

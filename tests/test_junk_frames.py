"""Junk Socket.IO frames, signed in or not: dropped or answered, logged once, closed when repeated."""

from __future__ import annotations

import json
import logging

import aiohttp

from chat.realtime.server import JUNK_LIMIT

DEEP = "42" + "[" * 2000 + "]" * 2000
# Log bytes per junk byte sent (access log lines included); about 1.0 before the fix, 0.011 after.
LOG_PER_JUNK_BYTE = 0.03


async def open_ws(chat, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(f"{chat.url}/socket.io/?EIO=4&transport=websocket")
    opened = await ws.receive_str(timeout=5)
    assert opened.startswith("0{")
    return ws


async def closed_after(ws: aiohttp.ClientWebSocketResponse, frame: str, count: int) -> bool:
    """Send `frame` `count` times; whether the server then closes the connection."""
    for _ in range(count):
        await ws.send_str(frame)
    while True:  # answers may come first; the close must come after the last frame
        msg = await ws.receive(timeout=10)
        if msg.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSING,
        ):
            return True
        if msg.type == aiohttp.WSMsgType.TEXT and msg.data == "1":  # Engine.IO CLOSE
            return True
        if msg.type == aiohttp.WSMsgType.TEXT and msg.data == "2":  # a ping: still open
            return False


async def test_deep_json_without_connect_is_dropped_quietly_and_closed(chat, captured):
    sent_bytes = 0
    async with aiohttp.ClientSession() as session:
        for _ in range(30):  # 300 frames of 4 KB, as the attacker sent
            ws = await open_ws(chat, session)
            assert await closed_after(ws, DEEP, JUNK_LIMIT)
            sent_bytes += JUNK_LIMIT * len(DEEP)
            await ws.close()
    assert not [r for r in captured.records if r.levelno >= logging.ERROR]
    assert not [r for r in captured.records if r.exc_info]
    ratio = captured.bytes / sent_bytes
    print(f"log bytes per junk byte: {ratio:.5f} ({captured.bytes} B for {sent_bytes} B)")
    assert ratio < LOG_PER_JUNK_BYTE
    # The server still serves a real client.
    ann = await chat.user("Ann")
    assert (await (await chat.socket(ann)).call("user-status", {"status": "online"}))["ok"]


async def test_junk_after_connect_gets_error_acks_then_the_connection_is_closed(chat, captured):
    ann = await chat.user("Ann")
    async with aiohttp.ClientSession() as session:
        ws = await open_ws(chat, session)
        await ws.send_str("40" + json.dumps({"token": ann.token}))
        while not (msg := await ws.receive_str(timeout=5)).startswith("40"):
            pass
        # Well-framed but wrong shapes with an ack id: answered in the contract's words.
        for frame in ('421{"not":"a list"}', "422[]", "423[" + "[" * 40 + "]" * 40 + "]"):
            await ws.send_str(frame)
            while not (msg := await ws.receive_str(timeout=5)).startswith("43"):
                pass
            ack = json.loads(msg[3:])[0]
            assert ack["ok"] is False and ack["error"]["code"] == "VALIDATION_ERROR", msg
            assert "Traceback" not in msg
        # The connection lives on after a few...
        await ws.send_str('424["user-status",{"status":"away"}]')
        while not (msg := await ws.receive_str(timeout=5)).startswith("434"):
            pass
        assert json.loads(msg[3:])[0]["ok"] is True
        # ...and is closed when the garbage keeps coming (42garbage, nested JSON).
        assert await closed_after(ws, "42garbage", JUNK_LIMIT - 3)
    warnings = [r for r in captured.records if r.name == "chat.realtime"]
    assert len(warnings) == 2  # the first malformed packet, and the close
    assert not [r for r in captured.records if r.levelno >= logging.ERROR or r.exc_info]

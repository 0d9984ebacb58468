"""Malformed payloads for every event: a clear error ack, the connection lives on, nobody hears."""

from __future__ import annotations

import pytest

EVENTS = [
    "join-room", "leave-room", "send-message", "edit-message", "delete-message", "react-message",
    "typing-start", "typing-stop", "message-read", "message-delivered", "get-history", "sync",
    "user-status",
]  # fmt: skip

BAD_PAYLOADS = [
    None,
    "a string",
    42,
    [1, 2, 3],
    {},
    {"roomId": {"$gt": ""}, "messageId": {"$ne": None}, "text": "x", "seq": 1, "emoji": "x", "rooms": {}},
    {"roomId": "0" * 24, "messageId": "0" * 24, "text": "x" * 5000, "emoji": "x" * 100, "seq": 1},
    {"roomId": "0" * 24, "messageId": "0" * 24, "text": "ok", "seq": -1, "emoji": "x", "status": "gone",
     "rooms": {"0" * 24: -5}},
    {"roomId": "0" * 24, "messageId": "0" * 24, "text": "ok", "seq": 2**70, "emoji": "x", "rooms": {"x": 1}},
    {"roomId": "0" * 24, "messageId": "0" * 24, "text": ["ok"], "seq": "1", "emoji": 5, "status": 1,
     "rooms": []},
    {"roomId": "0" * 24, "messageId": "0" * 24, "text": "ok", "seq": 1, "emoji": "x", "status": "away",
     "rooms": {"0" * 24: 1}, "__proto__": {"admin": True}, "isAdmin": True},
    {"a": {"b": {"c": {"d": {"e": {"f": {"g": {}}}}}}}},
]  # fmt: skip
# Not one of these is valid for any event: each is not an object, misses a required field, has a
# value of the wrong type or range, or carries a field the event's schema does not know (the
# schemas refuse unknown fields). So every answer is a VALIDATION_ERROR, and an accepted payload
# is a failure.


@pytest.mark.parametrize("event", EVENTS)
async def test_bad_payloads_get_error_acks_and_the_connection_lives(chat, event):
    ann, out = await chat.user("Ann"), await chat.user("Out")
    a, o = await chat.socket(ann), await chat.socket(out)
    await o.wait_for("online-users")
    for payload in BAD_PAYLOADS:
        ack = await a.call(event, payload)
        assert isinstance(ack, dict), (event, payload)
        assert ack["ok"] is False, (event, payload, ack)
        assert ack["error"]["code"] == "VALIDATION_ERROR", (event, payload, ack)
        assert ack["error"]["message"]
        assert "Traceback" not in str(ack)
    assert a.sio.connected
    assert (await a.call("user-status", {"status": "online"}))["ok"] is True
    await o.round_trip()  # every ack above came first: anything sent to Out has arrived
    assert [name for name, _ in o.events if name != "online-users"] == []


async def test_unknown_event_no_payload_and_extra_arguments(chat):
    ann = await chat.user("Ann")
    a = await chat.socket(ann)
    assert (await a.call("drop-tables", {"x": 1}))["error"]["code"] == "NOT_FOUND"
    assert (await a.call("send-message"))["error"]["code"] == "VALIDATION_ERROR"
    ack = await a.sio.call("send-message", ({"roomId": "0" * 24, "text": "x"}, "extra"), timeout=5)
    assert ack["error"]["code"] == "VALIDATION_ERROR"
    assert a.sio.connected


async def test_huge_packet_is_refused(chat):
    ann = await chat.user("Ann")
    a = await chat.socket(ann)
    import asyncio

    gone = asyncio.Event()
    a.sio.on("disconnect", lambda *x: gone.set())
    await a.sio.emit("send-message", {"roomId": "0" * 24, "text": "x" * 1_100_000})
    await asyncio.wait_for(gone.wait(), 5)
    b = await chat.socket(ann)
    assert (await b.call("user-status", {"status": "online"}))["ok"] is True

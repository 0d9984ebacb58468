"""Per-user limits on edits, deletes, reactions, typing and messages across rooms; a socket cap."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from chat.app import create_app
from config.settings import Settings
from tests.realtime import Chat


@pytest.fixture
async def limited(aiohttp_server, aiohttp_client, settings):
    """The real app with the shipped per-user limits (the test defaults raise the message one)."""
    shipped = Settings(jwt_secret="-")
    defaults = dataclasses.replace(
        settings,
        **{
            f"rate_limit_{rule}": getattr(shipped, f"rate_limit_{rule}")
            for rule in ("messages", "user_messages", "edits", "reactions", "typing")
        },
        max_sockets_per_user=3,
    )
    server = await aiohttp_server(create_app(defaults))
    harness = Chat(server, await aiohttp_client(server))
    yield harness
    await harness.close()


async def codes(peer, event: str, payloads: list[dict]) -> list[str]:
    acks = [await peer.call(event, p) for p in payloads]
    return ["ok" if a["ok"] else a["error"]["code"] for a in acks]


async def test_edits_deletes_and_reactions_are_limited_per_user(limited):
    ann, bob = await limited.user("Ann"), await limited.user("Bob")
    room = await limited.room(ann)
    await limited.join(bob, room)
    a, b = await limited.socket(ann), await limited.socket(bob)
    sent = (await a.call("send-message", {"roomId": room["id"], "text": "hi"}))["message"]
    edits = await codes(
        a, "edit-message", [{"messageId": sent["id"], "text": f"v{i}"} for i in range(40)]
    )
    assert edits.count("ok") == 30 and edits[30:] == ["RATE_LIMITED"] * 10
    reacts = await codes(a, "react-message", [{"messageId": sent["id"], "emoji": "👍"}] * 70)
    assert reacts.count("ok") == 60 and reacts[60:] == ["RATE_LIMITED"] * 10
    # Deletes share the edit budget, which is spent.
    assert await codes(a, "delete-message", [{"messageId": sent["id"]}]) == ["RATE_LIMITED"]
    # Bob hears only what was allowed: 30 updates, 60 reaction changes.
    await b.wait_for("reaction-updated", lambda _: len(b.got("reaction-updated")) >= 60)
    assert len(b.got("message-updated")) == 30
    limited_ack = await a.call("edit-message", {"messageId": sent["id"], "text": "x"})
    assert limited_ack["error"]["details"]["retryAfter"] > 0


async def test_typing_announces_at_most_once_per_room_per_window(limited):
    ann, bob = await limited.user("Ann"), await limited.user("Bob")
    room = await limited.room(ann)
    await limited.join(bob, room)
    a, b = await limited.socket(ann), await limited.socket(bob)
    results = []
    for _ in range(200):  # start/stop toggling: each start would be a broadcast
        results += await codes(a, "typing-start", [{"roomId": room["id"]}])
        await a.call("typing-stop", {"roomId": room["id"]})
    assert results[0] == "ok" and results.count("ok") <= 2
    assert set(results[1:]) <= {"ok", "RATE_LIMITED"}
    await a.call("user-status", {"status": "away"})  # ordered after the typing events
    await b.wait_for("user-status-update")
    starts = [e for e in b.got("user-typing") if e["isTyping"]]
    assert 1 <= len(starts) <= 2


async def test_messages_are_limited_per_user_across_rooms(limited):
    ann = await limited.user("Ann")
    a = await limited.socket(ann)
    rooms = [await limited.room(ann, name=f"R{i}") for i in range(12)]
    results = []
    for room in rooms:  # 5 per room is within the per-room limit everywhere
        results += await codes(a, "send-message", [{"roomId": room["id"], "text": "x"}] * 5)
    assert results.count("ok") == 30
    assert results[30:] == ["RATE_LIMITED"] * 30


async def test_past_the_socket_cap_the_oldest_is_told_and_closed(limited):
    ann = await limited.user("Ann")
    peers = [await limited.socket(ann) for _ in range(3)]
    gone = asyncio.Event()
    peers[0].sio.on("disconnect", lambda *_: gone.set())
    newest = await limited.socket(ann)
    notice = await peers[0].wait_for("too-many-sockets")
    assert notice == {"limit": 3}
    await asyncio.wait_for(gone.wait(), 10)
    assert [p.sio.connected for p in peers[1:]] == [True, True]
    assert (await newest.call("user-status", {"status": "online"}))["ok"]
    for _ in range(5):  # each further socket displaces the then oldest, one at a time
        await limited.socket(ann)
    connected = [p for p in limited.peers if p.sio.connected]
    for _ in range(200):
        if len(connected) <= 3:
            break
        await asyncio.sleep(0.05)
        connected = [p for p in limited.peers if p.sio.connected]
    assert len(connected) == 3
    assert all(len(p.got("too-many-sockets")) == 1 for p in limited.peers if not p.sio.connected)

"""Presence (two tabs, grace period, lastSeen, status) and typing (echo rules, expiry, floods)."""

from __future__ import annotations

import asyncio


async def _room_with(chat, *users):
    room = await chat.room(users[0])
    for user in users[1:]:
        await chat.join(user, room)
    return room


async def test_presence_with_two_sockets_and_grace(chat, settings):
    ann, bob, eve = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Eve")
    await _room_with(chat, ann, bob)
    b = await chat.socket(bob)
    e = await chat.socket(eve)  # shares no room with Ann
    a1 = await chat.socket(ann)
    assert await b.wait_for("user-online") == {"userId": ann.id}
    assert (await a1.wait_for("online-users"))["userIds"] == [bob.id]
    a2 = await chat.socket(ann)
    await a1.close()
    await asyncio.sleep(settings.presence_grace_seconds + 0.3)
    assert b.got("user-offline") == []  # one tab still open
    _, online = await chat.api("GET", "/api/users/online", bob)
    assert sorted(u["id"] for u in online["users"]) == sorted([ann.id, eve.id])
    await a2.close()
    offline = await b.wait_for("user-offline", timeout=settings.presence_grace_seconds + 3)
    assert offline["userId"] == ann.id and offline["lastSeen"].endswith("Z")
    assert len(b.got("user-online")) == 1  # no flapping
    _, user = await chat.api("GET", f"/api/users/{ann.id}", bob)
    assert (user["user"]["online"], user["user"]["status"]) == (False, "offline")
    assert user["user"]["lastSeen"] == offline["lastSeen"]
    # Both announcements were written to their audience before Bob heard them.
    await e.round_trip()
    assert e.got("user-online") == [] and e.got("user-offline") == []


async def test_reload_within_grace_does_not_flap(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    await _room_with(chat, ann, bob)
    b = await chat.socket(bob)
    a = await chat.socket(ann)
    await b.wait_for("user-online")
    await a.close()
    await chat.socket(ann)  # the page came back at once
    await asyncio.sleep(0.8)
    assert b.got("user-offline") == []
    assert len(b.got("user-online")) == 1


async def test_status_updates_reach_co_members_once_per_socket(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    first = await chat.room(ann)  # two shared rooms: still one event per socket
    second = await _room_with(chat, ann, bob)
    await chat.join(bob, first)
    _, mine = await chat.api("GET", "/api/rooms/mine", bob)
    assert sorted(r["id"] for r in mine["rooms"]) == sorted([first["id"], second["id"]])
    a, b = await chat.socket(ann), await chat.socket(bob)
    assert await a.call("user-status", {"status": "busy"}) == {"ok": True}
    assert await b.wait_for("user-status-update") == {"userId": ann.id, "status": "busy"}
    _, user = await chat.api("GET", f"/api/users/{ann.id}", bob)
    assert user["user"]["status"] == "busy"
    # Bounded by progress: a second copy of "busy" would reach Bob before the next change does.
    assert await a.call("user-status", {"status": "away"}) == {"ok": True}
    await b.wait_for("user-status-update", lambda p: p["status"] == "away")
    assert b.got("user-status-update") == [
        {"userId": ann.id, "status": "busy"},
        {"userId": ann.id, "status": "away"},
    ]


async def test_typing_reaches_others_not_own_sockets_and_expires(chat, settings):
    ann, bob, out = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Out")
    room = await _room_with(chat, ann, bob)
    a1, a2, b, o = (
        await chat.socket(ann),
        await chat.socket(ann),
        await chat.socket(bob),
        await chat.socket(out),
    )
    assert await a1.call("typing-start", {"roomId": room["id"]}) == {"ok": True}
    typing = await b.wait_for("user-typing")
    assert typing == {"roomId": room["id"], "userId": ann.id, "name": "Ann", "isTyping": True}
    stopped = await b.wait_for(
        "user-typing", lambda p: not p["isTyping"], timeout=settings.typing_timeout + 2
    )
    assert stopped["userId"] == ann.id
    for peer in (a1, a2, o):  # each announcement was written to every recipient before Bob's
        await peer.round_trip()
    assert (
        a1.got("user-typing") == [] and a2.got("user-typing") == [] and o.got("user-typing") == []
    )


async def test_sending_stops_typing_and_floods_are_dropped(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await _room_with(chat, ann, bob)
    a, b = await chat.socket(ann), await chat.socket(bob)
    acks = await asyncio.gather(
        *(a.call("typing-start", {"roomId": room["id"]}) for _ in range(200))
    )
    assert all(ack == {"ok": True} for ack in acks)
    await b.wait_for("user-typing")
    await a.call("send-message", {"roomId": room["id"], "text": "done typing"})
    await b.wait_for("user-typing", lambda p: not p["isTyping"])
    # Bounded by progress: anything queued up behind the send reaches Bob before a new start.
    assert await a.call("typing-start", {"roomId": room["id"]}) == {"ok": True}
    await b.wait_for("user-typing", lambda _: len(b.got("user-typing")) >= 3)
    # 200 starts and a send: one "typing" and one "stopped" reached Bob, nothing queued up.
    assert [p["isTyping"] for p in b.got("user-typing")] == [True, False, True]
    assert await a.call("typing-stop", {"roomId": room["id"]}) == {"ok": True}


async def test_typing_in_a_room_you_are_not_in_is_an_error(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)
    b = await chat.socket(bob)
    ack = await b.call("typing-start", {"roomId": room["id"]})
    assert ack["ok"] is False and ack["error"]["code"] == "NOT_FOUND"

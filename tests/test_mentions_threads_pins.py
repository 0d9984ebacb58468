"""Mentions, threads and pins through both doors: the real app, python-socketio clients, REST."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.realtime import Chat, Peer


async def _trio(chat: Chat, kind: str = "public"):
    """Ann owns a room that Bob and Cat joined; each has a socket."""
    ann, bob, cat = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Cat")
    room = await chat.room(ann, kind)
    await chat.join(bob, room)
    await chat.join(cat, room)
    return (ann, bob, cat), room, [await chat.socket(u) for u in (ann, bob, cat)]


async def _send(peer: Peer, room_id: str, text: str, **extra: Any) -> dict[str, Any]:
    ack = await peer.call("send-message", {"roomId": room_id, "text": text, **extra})
    assert ack["ok"], ack
    return ack["message"]


async def _mine(chat: Chat, user, room_id: str) -> dict[str, Any]:
    status, body = await chat.api("GET", "/api/rooms/mine", user)
    assert status == 200
    return next(r for r in body["rooms"] if r["id"] == room_id)


# -- mentions ---------------------------------------------------------------------------------


async def test_mentions_count_unread_and_fall_with_the_read_pointer(chat):
    (ann, bob, cat), room, (a, b, _) = await _trio(chat)
    plain = await _send(a, room["id"], "hello all")
    assert plain["mentions"] == [] and plain["threadId"] is None and plain["thread"] is None
    first = await _send(a, room["id"], "@Bob look", mentions=[bob.id, bob.id])
    assert first["mentions"] == [bob.id]  # once each
    both = await _send(a, room["id"], "@Bob @Cat", mentions=[bob.id, cat.id])
    status, sent = await chat.api(
        "POST",
        f"/api/rooms/{room['id']}/messages",
        cat,
        json={"text": "@Bob", "mentions": [bob.id]},
    )
    assert status == 201 and sent["message"]["mentions"] == [bob.id]
    live = await b.wait_for("new-message", lambda m: m["id"] == both["id"])
    assert live["mentions"] == [bob.id, cat.id]

    listed = await _mine(chat, bob, room["id"])
    assert listed["mentionCount"] == 3 and listed["unreadCount"] == 4
    assert listed["notifications"] == "mentions"  # a group room's default
    assert (await _mine(chat, cat, room["id"]))["mentionCount"] == 0  # her own mention of Bob
    assert (await _mine(chat, ann, room["id"]))["mentionCount"] == 0

    # Reading up to the second mention leaves one; deleting that one leaves none.
    ack = await b.call("message-read", {"roomId": room["id"], "seq": both["seq"]})
    assert ack["ok"]
    assert (await _mine(chat, bob, room["id"]))["mentionCount"] == 1
    status, _ = await chat.api("DELETE", f"/api/messages/{sent['message']['id']}", cat)
    assert status == 204
    assert (await _mine(chat, bob, room["id"]))["mentionCount"] == 0

    # GET /api/mentions: live messages that mention you, newest first, paged by message id.
    status, page = await chat.api("GET", "/api/mentions?limit=1", bob)
    assert status == 200
    assert [m["id"] for m in page["messages"]] == [both["id"]] and page["hasMore"] is True
    status, rest = await chat.api("GET", f"/api/mentions?limit=5&before={both['id']}", bob)
    assert [m["id"] for m in rest["messages"]] == [first["id"]] and rest["hasMore"] is False
    _, cats = await chat.api("GET", "/api/mentions", cat)
    assert [m["id"] for m in cats["messages"]] == [both["id"]]
    assert plain["id"] not in {m["id"] for m in page["messages"] + rest["messages"]}


async def test_mentions_of_non_members_and_bad_mentions_are_refused(chat):
    (ann, bob, _), room, (a, _, _) = await _trio(chat)
    stranger = await chat.user("Stranger")
    ack = await a.call(
        "send-message", {"roomId": room["id"], "text": "hi", "mentions": [bob.id, stranger.id]}
    )
    assert ack["ok"] is False and ack["error"]["code"] == "VALIDATION_ERROR"
    assert ack["error"]["details"] == {"mentions": [stranger.id]}
    for bad in (["nope"], [{"$gt": ""}], bob.id, [bob.id] * 51, [None]):
        ack = await a.call("send-message", {"roomId": room["id"], "text": "hi", "mentions": bad})
        assert ack["ok"] is False and ack["error"]["code"] == "VALIDATION_ERROR", bad
    status, body = await chat.api(
        "POST", f"/api/rooms/{room['id']}/messages", ann,
        json={"text": "hi", "mentions": [stranger.id]},
    )  # fmt: skip
    assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR"
    # Nothing refused took a seq: the room's next message is its first.
    assert (await _send(a, room["id"], "still here"))["seq"] == 1
    for bad in ("limit=0", "limit=101", "before=123", "extra=1"):
        status, body = await chat.api("GET", f"/api/mentions?{bad}", bob)
        assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR", bad


async def test_mentions_in_rooms_you_cannot_read_are_not_listed(chat):
    (ann, bob, _), room, (a, _, _) = await _trio(chat, "private")
    secret = await _send(a, room["id"], "@Bob", mentions=[bob.id])
    _, page = await chat.api("GET", "/api/mentions", bob)
    assert [m["id"] for m in page["messages"]] == [secret["id"]]
    status, _ = await chat.api("DELETE", f"/api/rooms/{room['id']}/members/{bob.id}", ann)
    assert status == 204
    _, page = await chat.api("GET", "/api/mentions", bob)
    assert page == {"messages": [], "hasMore": False}


# -- threads ----------------------------------------------------------------------------------


async def test_a_thread_keeps_its_summary_and_pages_its_replies(chat):
    (ann, bob, cat), room, (a, b, c) = await _trio(chat)
    root = await _send(a, room["id"], "what do we ship?")
    replies = [
        await _send(b, room["id"], "this", threadId=root["id"]),
        await _send(c, room["id"], "that", threadId=root["id"]),
        await _send(b, room["id"], "both", threadId=root["id"]),
    ]
    assert [r["seq"] for r in replies] == [2, 3, 4]  # ordinary messages of the room
    assert all(r["threadId"] == root["id"] for r in replies)
    heard = await a.wait_for("new-message", lambda m: m["id"] == replies[-1]["id"])
    assert heard["threadId"] == root["id"]

    # Each reply announced the root changed, with its own ver, the last with the full summary.
    updated = await a.wait_for(
        "message-updated", lambda m: m["id"] == root["id"] and m["thread"]["replyCount"] == 3
    )
    assert updated["thread"]["participantIds"] == [bob.id, cat.id]
    assert updated["thread"]["lastReplyAt"] == replies[-1]["createdAt"]
    assert updated["ver"] > replies[-1]["ver"]
    counts = [m["thread"]["replyCount"] for m in a.got("message-updated") if m["id"] == root["id"]]
    assert counts == sorted(counts) and counts[-1] == 3

    # The thread page, over REST and over the socket; history shows the root's summary too.
    status, page = await chat.api("GET", f"/api/messages/{root['id']}/thread?limit=2", cat)
    assert status == 200 and page["root"]["id"] == root["id"]
    assert [m["id"] for m in page["messages"]] == [r["id"] for r in replies[:2]]
    assert page["hasMore"] is True and page["root"]["thread"]["replyCount"] == 3
    ack = await c.call("get-thread", {"messageId": root["id"], "after": replies[1]["seq"]})
    assert ack["ok"] and [m["id"] for m in ack["messages"]] == [replies[2]["id"]]
    assert ack["hasMore"] is False
    _, history = await chat.api("GET", f"/api/rooms/{room['id']}/messages", ann)
    assert history["messages"][0]["thread"]["replyCount"] == 3

    # A deleted reply leaves the count; the root's change reaches the room and the catch-up.
    assert (await b.call("delete-message", {"messageId": replies[0]["id"]}))["ok"]
    after = await c.wait_for(
        "message-updated", lambda m: m["id"] == root["id"] and m["ver"] > updated["ver"]
    )
    assert after["thread"]["replyCount"] == 2
    status, changes = await chat.api(
        "GET", f"/api/rooms/{room['id']}/changes?since={updated['ver']}", cat
    )
    assert status == 200
    assert {m["id"] for m in changes["messages"]} == {root["id"], replies[0]["id"]}
    assert changes["ver"] == after["ver"]


async def test_replies_to_replies_and_foreign_roots_are_refused(chat):
    (ann, _, _), room, (a, b, _) = await _trio(chat)
    other = await chat.room(ann, name="Other")
    elsewhere = await _send(a, other["id"], "elsewhere")
    root = await _send(a, room["id"], "root")
    reply = await _send(b, room["id"], "reply", threadId=root["id"])
    for thread_id in (reply["id"], elsewhere["id"], "0" * 24, "x"):
        ack = await b.call(
            "send-message", {"roomId": room["id"], "text": "deeper", "threadId": thread_id}
        )
        assert ack["ok"] is False and ack["error"]["code"] == "VALIDATION_ERROR", thread_id
    status, body = await chat.api(
        "POST", f"/api/rooms/{room['id']}/messages", ann,
        json={"text": "deeper", "threadId": reply["id"]},
    )  # fmt: skip
    assert status == 400 and "reply" in body["error"]["message"]
    # A reply's thread is its root's; a message that does not exist is NOT_FOUND.
    ack = await b.call("get-thread", {"messageId": reply["id"]})
    assert ack["ok"] and ack["root"]["id"] == root["id"]
    status, _ = await chat.api("GET", f"/api/messages/{'0' * 24}/thread", ann)
    assert status == 404
    for bad in ({"messageId": root["id"], "limit": 0}, {"messageId": root["id"], "after": -1}, {}):
        ack = await b.call("get-thread", bad)
        assert ack["ok"] is False and ack["error"]["code"] == "VALIDATION_ERROR", bad
    assert (await _send(a, room["id"], "next"))["seq"] == 3  # nothing refused took a seq


async def test_a_private_rooms_thread_is_not_found_for_outsiders(chat):
    (ann, bob, _), room, (a, _, _) = await _trio(chat, "private")
    root = await _send(a, room["id"], "inside")
    outsider = await chat.user("Out")
    status, body = await chat.api("GET", f"/api/messages/{root['id']}/thread", outsider)
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    peer = await chat.socket(outsider)
    ack = await peer.call(
        "send-message", {"roomId": room["id"], "text": "in?", "threadId": root["id"]}
    )
    assert ack["ok"] is False and ack["error"]["code"] == "NOT_FOUND"
    # Nothing an outsider names tells them what the room holds or who is in it: a member and a
    # stranger, a message of the room and none, all answer the same NOT_FOUND.
    stranger = await chat.user("Stranger")
    for extra in (
        {"mentions": [bob.id]}, {"mentions": [stranger.id]},
        {"replyTo": root["id"]}, {"replyTo": "0" * 24}, {"threadId": "0" * 24},
    ):  # fmt: skip
        ack = await peer.call("send-message", {"roomId": room["id"], "text": "x", **extra})
        assert ack["error"] == {"code": "NOT_FOUND", "message": "Room not found"}, extra
        status, body = await chat.api(
            "POST", f"/api/rooms/{room['id']}/messages", outsider, json={"text": "x", **extra}
        )
        assert status == 404 and body["error"]["code"] == "NOT_FOUND", extra


# -- pins -------------------------------------------------------------------------------------


async def test_owners_and_admins_pin_and_everyone_sees_the_pins(chat):
    (ann, bob, cat), room, (a, b, c) = await _trio(chat)
    first = await _send(b, room["id"], "first")
    second = await _send(c, room["id"], "second")
    status, body = await chat.api("POST", f"/api/messages/{first['id']}/pin", bob)
    assert status == 403 and body["error"]["code"] == "FORBIDDEN"  # a member may not pin

    status, body = await chat.api("POST", f"/api/messages/{first['id']}/pin", ann)
    assert status == 200 and body["message"]["pinned"]["by"] == ann.id
    heard = await c.wait_for("message-updated", lambda m: m["id"] == first["id"])
    assert heard["pinned"]["by"] == ann.id and heard["ver"] == body["message"]["ver"]
    status, _ = await chat.api(
        "PATCH", f"/api/rooms/{room['id']}/members/{bob.id}", ann, json={"role": "admin"}
    )
    assert status == 200
    status, body = await chat.api("POST", f"/api/messages/{second['id']}/pin", bob)
    assert status == 200 and body["message"]["pinned"]["by"] == bob.id
    status, again = await chat.api("POST", f"/api/messages/{second['id']}/pin", bob)
    assert status == 200 and again["message"]["ver"] == body["message"]["ver"]  # no change

    status, pins = await chat.api("GET", f"/api/rooms/{room['id']}/pins", cat)
    assert status == 200
    assert [m["id"] for m in pins["messages"]] == [second["id"], first["id"]]  # newest pin first

    status, body = await chat.api("DELETE", f"/api/messages/{first['id']}/pin", ann)
    assert status == 200 and body["message"]["pinned"] is None
    await c.wait_for("message-updated", lambda m: m["id"] == first["id"] and not m["pinned"])
    # A deleted message is unpinned with it, and cannot be pinned.
    assert (await c.call("delete-message", {"messageId": second["id"]}))["ok"]
    _, pins = await chat.api("GET", f"/api/rooms/{room['id']}/pins", cat)
    assert pins["messages"] == []
    status, _ = await chat.api("POST", f"/api/messages/{second['id']}/pin", ann)
    assert status == 404
    status, _ = await chat.api("POST", f"/api/messages/{'0' * 24}/pin", ann)
    assert status == 404


async def test_pins_of_a_private_room_stay_inside_it(chat):
    (ann, _, _), room, (a, _, _) = await _trio(chat, "private")
    msg = await _send(a, room["id"], "secret")
    outsider = await chat.user("Out")
    for method, path in (
        ("POST", f"/api/messages/{msg['id']}/pin"),
        ("DELETE", f"/api/messages/{msg['id']}/pin"),
        ("GET", f"/api/rooms/{room['id']}/pins"),
    ):
        status, body = await chat.api(method, path, outsider)
        assert status == 404 and body["error"]["code"] == "NOT_FOUND", path


# -- notification levels ----------------------------------------------------------------------


async def test_notification_levels_per_membership(chat):
    (ann, bob, _), room, (_, b, _) = await _trio(chat, "private")
    status, direct = await chat.api("POST", "/api/rooms/direct", bob, json={"userId": ann.id})
    assert status in (200, 201)
    assert (await _mine(chat, bob, direct["room"]["id"]))["notifications"] == "all"
    assert (await _mine(chat, bob, room["id"]))["notifications"] == "mentions"

    other_tab = await chat.socket(bob)
    status, body = await chat.api(
        "PATCH", f"/api/rooms/{room['id']}/notifications", bob, json={"level": "none"}
    )
    assert status == 200 and body["room"]["notifications"] == "none"
    heard = await other_tab.wait_for("room-updated", lambda e: e["room"]["id"] == room["id"])
    assert heard["room"]["notifications"] == "none"
    assert (await _mine(chat, bob, room["id"]))["notifications"] == "none"
    assert (await _mine(chat, ann, room["id"]))["notifications"] == "mentions"  # Bob's alone

    for bad in ({"level": "loud"}, {}, {"level": "all", "x": 1}, {"level": ["all"]}):
        status, body = await chat.api(
            "PATCH", f"/api/rooms/{room['id']}/notifications", bob, json=bad
        )
        assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR", bad
    outsider = await chat.user("Out")
    status, _ = await chat.api(
        "PATCH", f"/api/rooms/{room['id']}/notifications", outsider, json={"level": "all"}
    )
    assert status == 404
    await b.round_trip()  # Bob's sockets still live after all of it


async def test_a_blocked_users_mentions_do_not_count(chat):
    (ann, bob, _), room, (a, b, _) = await _trio(chat)
    status, _ = await chat.api("POST", f"/api/users/{ann.id}/block", bob)
    assert status == 204
    await _send(a, room["id"], "@Bob", mentions=[bob.id])
    assert (await _mine(chat, bob, room["id"]))["mentionCount"] == 0
    status, _ = await chat.api("DELETE", f"/api/users/{ann.id}/block", bob)
    assert status == 204
    await _send(a, room["id"], "@Bob again", mentions=[bob.id])
    assert (await _mine(chat, bob, room["id"]))["mentionCount"] == 1


async def test_mentions_page_through_a_batch_and_past_a_deleted_room(chat):
    (ann, bob, _), room, (a, _, _) = await _trio(chat)
    other = await chat.room(ann, name="Gone soon")
    await chat.join(bob, other)
    first = await _send(a, room["id"], "@Bob 1", mentions=[bob.id])
    gone = await _send(a, other["id"], "@Bob in a room about to go", mentions=[bob.id])
    # Sent at once from REST: a batch, likely sharing one createdAt (ties are paged by id).
    sent = await asyncio.gather(
        *(
            chat.api("POST", f"/api/rooms/{room['id']}/messages", ann,
                     json={"text": f"@Bob {i}", "mentions": [bob.id]})
            for i in range(2, 6)
        )
    )  # fmt: skip
    assert all(status == 201 for status, _ in sent)
    seen, before = [], None
    while True:
        query = "limit=1" + (f"&before={before}" if before else "")
        status, page = await chat.api("GET", f"/api/mentions?{query}", bob)
        assert status == 200
        seen += [m["id"] for m in page["messages"]]
        if not page["hasMore"]:
            break
        before = page["messages"][-1]["id"]
    assert len(seen) == len(set(seen)) == 6 and seen[-1] == first["id"]
    # The room of the page's last message is deleted before the next page: paging goes on from
    # the second its id was made (so it may give again what came in that same second).
    status, _ = await chat.api("DELETE", f"/api/rooms/{other['id']}", ann)
    assert status == 204
    status, page = await chat.api("GET", f"/api/mentions?before={gone['id']}", bob)
    assert status == 200 and page["messages"][-1]["id"] == first["id"]
    assert gone["id"] not in {m["id"] for m in page["messages"]}

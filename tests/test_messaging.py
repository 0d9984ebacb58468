"""Messages over sockets and REST: acks, broadcasts, order, idempotency, history, sync."""

from __future__ import annotations

import asyncio
import dataclasses

from chat.app import create_app
from tests.realtime import Chat


async def _pair(chat: Chat, kind: str = "public"):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann, kind)
    await chat.join(bob, room)
    return ann, bob, room, await chat.socket(ann), await chat.socket(bob)


async def test_send_acks_after_store_and_reaches_others_not_the_sender(chat):
    ann, bob, room, a, b = await _pair(chat)
    a2 = await chat.socket(ann)  # Ann's second tab
    ack = await a.call(
        "send-message", {"roomId": room["id"], "text": "  hello  ", "clientId": "c1"}
    )
    assert ack["ok"] is True
    msg = ack["message"]
    assert (msg["seq"], msg["text"], msg["type"], msg["clientId"]) == (1, "hello", "text", "c1")
    assert msg["sender"] == {"id": ann.id, "name": "Ann", "avatarUrl": None}
    assert msg["reactions"] == [] and msg["attachments"] == [] and msg["deletedAt"] is None
    assert await b.wait_for("new-message") == msg
    assert await a2.wait_for("new-message") == msg
    status, body = await chat.api("GET", f"/api/rooms/{room['id']}/messages", bob)
    assert status == 200
    assert body == {"messages": [msg], "hasMore": False}
    # Bounded by progress: the room's messages reach a socket in order, so an echo of the first
    # would arrive before the next one.
    reply = (await b.call("send-message", {"roomId": room["id"], "text": "next"}))["message"]
    assert await a.wait_for("new-message") == reply
    assert a.got("new-message") == [reply]  # the sending socket has the ack instead


async def test_rest_send_is_broadcast_like_a_socket_send(chat):
    ann, bob, room, a, b = await _pair(chat)
    status, body = await chat.api(
        "POST", f"/api/rooms/{room['id']}/messages", ann, json={"text": "via rest"}
    )
    assert status == 201
    assert await b.wait_for("new-message") == body["message"]
    assert await a.wait_for("new-message") == body["message"]  # REST has no socket to skip


async def test_fifty_unawaited_sends_keep_their_order(chat):
    ann, bob, room, a, b = await _pair(chat)
    acks = await asyncio.gather(
        *(a.call("send-message", {"roomId": room["id"], "text": f"m{i}"}) for i in range(50))
    )
    # python-socketio emits in call order; the server must handle them one after another.
    by_text = {ack["message"]["text"]: ack["message"]["seq"] for ack in acks}
    assert [by_text[f"m{i}"] for i in range(50)] == list(range(1, 51))
    await b.wait_for("new-message", lambda m: m["seq"] == 50)
    assert [m["text"] for m in b.got("new-message")] == [f"m{i}" for i in range(50)]


async def test_resend_with_same_client_id_concurrently_over_sockets_and_rest(chat):
    ann, bob, room, a, b = await _pair(chat)
    a2 = await chat.socket(ann)
    payload = {"roomId": room["id"], "text": "once", "clientId": "same-id"}

    async def rest_send():
        status, body = await chat.api("POST", f"/api/rooms/{room['id']}/messages", ann, json={
            "text": "once", "clientId": "same-id"})  # fmt: skip
        assert status in (200, 201)
        return {"ok": True, "message": body["message"]}

    results = await asyncio.gather(
        *[a.call("send-message", payload) for _ in range(4)],
        *[a2.call("send-message", payload) for _ in range(3)],
        *[rest_send() for _ in range(3)],
    )
    ids = {r["message"]["id"] for r in results}
    assert len(ids) == 1
    assert all(r == results[0] for r in results)
    status, body = await chat.api("GET", f"/api/rooms/{room['id']}/messages", bob)
    assert [m["text"] for m in body["messages"]] == ["once"]
    # Bounded by progress: a second broadcast of "once" would reach Bob before a later message.
    await a.call("send-message", {"roomId": room["id"], "text": "later"})
    await b.wait_for("new-message", lambda m: m["text"] == "later")
    assert [m["text"] for m in b.got("new-message")] == ["once", "later"]
    # A later resend (say after a reconnect) is answered with the original, REST says 200.
    status, body = await chat.api("POST", f"/api/rooms/{room['id']}/messages", ann, json={
        "text": "once", "clientId": "same-id"})  # fmt: skip
    assert status == 200
    assert body["message"]["id"] in ids


async def test_history_pages_and_limits(chat):
    ann, bob, room, a, b = await _pair(chat)
    for i in range(7):
        assert (await a.call("send-message", {"roomId": room["id"], "text": f"t{i}"}))["ok"]
    path = f"/api/rooms/{room['id']}/messages"
    _, newest = await chat.api("GET", path + "?limit=3", bob)
    assert [m["seq"] for m in newest["messages"]] == [5, 6, 7]
    assert newest["hasMore"] is True
    _, older = await chat.api("GET", path + "?limit=3&before=5", bob)
    assert [m["seq"] for m in older["messages"]] == [2, 3, 4]
    _, oldest = await chat.api("GET", path + "?limit=3&before=2", bob)
    assert ([m["seq"] for m in oldest["messages"]], oldest["hasMore"]) == ([1], False)
    _, after = await chat.api("GET", path + "?after=5", bob)
    assert ([m["seq"] for m in after["messages"]], after["hasMore"]) == ([6, 7], False)
    for bad in ("limit=0", "limit=101", "limit=x", "before=-1", "after=abc", "limit=1&limit=2"):
        status, body = await chat.api("GET", f"{path}?{bad}", bob)
        assert status == 400, bad
        assert body["error"]["code"] == "VALIDATION_ERROR"
    ack = await b.call("get-history", {"roomId": room["id"], "before": 3, "limit": 5})
    assert [m["seq"] for m in ack["messages"]] == [1, 2]
    assert ack["hasMore"] is False


async def test_sync_after_disconnect_returns_exactly_what_was_missed(chat):
    ann, bob, room, a, b = await _pair(chat)
    for i in range(3):
        await a.call("send-message", {"roomId": room["id"], "text": f"seen{i}"})
    await b.wait_for("new-message", lambda m: m["seq"] == 3)
    await b.close()
    for i in range(150):
        await a.call("send-message", {"roomId": room["id"], "text": f"missed{i}"})
    b2 = await chat.socket(bob)
    got = await b2.call("sync", {"rooms": {room["id"]: 3}})
    assert got["ok"] is True
    [entry] = got["rooms"]
    assert entry["roomId"] == room["id"]
    assert [m["seq"] for m in entry["messages"]] == list(range(4, 104))
    assert entry["hasMore"] is True
    more = await b2.call("sync", {"rooms": {room["id"]: 103}})
    assert [m["seq"] for m in more["rooms"][0]["messages"]] == list(range(104, 154))
    assert more["rooms"][0]["hasMore"] is False
    # A room one may not read answers with an error entry, not other people's messages.
    cid = await chat.user("Cid")
    secret = await chat.room(cid, "private")
    got = await b2.call("sync", {"rooms": {secret["id"]: 0}})
    assert got["rooms"] == [{"roomId": secret["id"], "messages": [], "hasMore": False,
                             "error": {"code": "NOT_FOUND", "message": "Room not found"}}]  # fmt: skip


async def test_sync_after_server_restart_on_the_same_database(
    aiohttp_server, aiohttp_client, settings
):
    first = await aiohttp_server(create_app(settings))
    chat = Chat(first, await aiohttp_client(first))
    ann, bob, room, a, b = await _pair(chat)
    for i in range(5):
        await a.call("send-message", {"roomId": room["id"], "text": f"x{i}"})
    await chat.close()
    await first.close()

    second = await aiohttp_server(create_app(dataclasses.replace(settings)))
    chat2 = Chat(second, await aiohttp_client(second))
    try:
        b2 = await chat2.socket(bob)
        got = await b2.call("sync", {"rooms": {room["id"]: 2}})
        assert [m["text"] for m in got["rooms"][0]["messages"]] == ["x2", "x3", "x4"]
        a2 = await chat2.socket(ann)
        ack = await a2.call("send-message", {"roomId": room["id"], "text": "after restart"})
        assert ack["message"]["seq"] == 6
    finally:
        await chat2.close()


async def test_edit_delete_react(chat):
    ann, bob, room, a, b = await _pair(chat)
    msg = (await a.call("send-message", {"roomId": room["id"], "text": "first"}))["message"]
    assert (await b.call("edit-message", {"messageId": msg["id"], "text": "hijack"}))["error"][
        "code"
    ] == "FORBIDDEN"
    edited = await a.call("edit-message", {"messageId": msg["id"], "text": "fixed"})
    assert edited["message"]["text"] == "fixed" and edited["message"]["editedAt"]
    assert (await b.wait_for("message-updated"))["text"] == "fixed"

    r = await b.call("react-message", {"messageId": msg["id"], "emoji": "👍"})
    assert r["reactions"] == [{"emoji": "👍", "count": 1, "userIds": [bob.id]}]
    r = await a.call("react-message", {"messageId": msg["id"], "emoji": "👍"})
    assert r["reactions"] == [{"emoji": "👍", "count": 2, "userIds": [bob.id, ann.id]}]
    r = await b.call("react-message", {"messageId": msg["id"], "emoji": "👍"})
    assert r["reactions"] == [{"emoji": "👍", "count": 1, "userIds": [ann.id]}]
    assert (await a.wait_for("reaction-updated", lambda p: p["reactions"][0]["count"] == 1))[
        "messageId"
    ] == msg["id"]

    assert (await b.call("delete-message", {"messageId": msg["id"]}))["error"][
        "code"
    ] == "FORBIDDEN"
    assert (await a.call("delete-message", {"messageId": msg["id"]})) == {"ok": True}
    assert await b.wait_for("message-deleted") == {
        "messageId": msg["id"],
        "roomId": room["id"],
        "seq": 1,
        "ver": 6,  # send, edit, three reactions, this delete: each took the room's next ver
    }
    _, body = await chat.api("GET", f"/api/rooms/{room['id']}/messages", bob)
    [tomb] = body["messages"]
    assert (tomb["id"], tomb["seq"], tomb["text"], tomb["attachments"], tomb["reactions"]) == (
        msg["id"],
        1,
        "",
        [],
        [],
    )
    assert tomb["deletedAt"]
    assert (await a.call("edit-message", {"messageId": msg["id"], "text": "zombie"}))["error"][
        "code"
    ] == "NOT_FOUND"


async def test_owner_or_admin_may_delete_others_messages(chat):
    ann, bob, room, a, b = await _pair(chat)
    msg = (await b.call("send-message", {"roomId": room["id"], "text": "spam"}))["message"]
    status, _ = await chat.api("DELETE", f"/api/messages/{msg['id']}", ann)
    assert status == 204


async def test_reply_to_must_be_in_the_same_room(chat):
    ann, bob, room, a, b = await _pair(chat)
    other = await chat.room(ann, name="Other")
    elsewhere = (await a.call("send-message", {"roomId": other["id"], "text": "x"}))["message"]
    here = (await a.call("send-message", {"roomId": room["id"], "text": "y"}))["message"]
    bad = await a.call(
        "send-message", {"roomId": room["id"], "text": "re", "replyTo": elsewhere["id"]}
    )
    assert bad["error"]["code"] == "VALIDATION_ERROR"
    good = await a.call("send-message", {"roomId": room["id"], "text": "re", "replyTo": here["id"]})
    assert good["message"]["replyTo"] == here["id"]


async def test_read_receipts_unread_counts_and_pointer_never_back(chat):
    ann, bob, room, a, b = await _pair(chat)
    for i in range(4):
        await a.call("send-message", {"roomId": room["id"], "text": f"r{i}"})
    _, mine = await chat.api("GET", "/api/rooms/mine", bob)
    assert [(r["id"], r["unreadCount"], r["lastReadSeq"]) for r in mine["rooms"]] == [
        (room["id"], 4, 0)
    ]
    _, ann_rooms = await chat.api("GET", "/api/rooms/mine", ann)
    assert ann_rooms["rooms"][0]["unreadCount"] == 0  # sending marks read for the sender
    ack = await b.call("message-read", {"roomId": room["id"], "seq": 3})
    assert ack == {"ok": True, "lastReadSeq": 3}
    receipt = await a.wait_for("message-read-receipt")
    assert (receipt["roomId"], receipt["userId"], receipt["seq"]) == (room["id"], bob.id, 3)
    assert receipt["readAt"].endswith("Z")
    assert (await b.call("message-read", {"roomId": room["id"], "seq": 1}))["lastReadSeq"] == 3
    status, body = await chat.api("POST", f"/api/rooms/{room['id']}/read", bob, json={"seq": 99})
    assert (status, body) == (200, {"lastReadSeq": 4})  # never past the last message
    _, mine = await chat.api("GET", "/api/rooms/mine", bob)
    assert mine["rooms"][0]["unreadCount"] == 0
    assert (await b.call("message-delivered", {"roomId": room["id"], "seq": 4})) == {"ok": True}
    delivered = await a.wait_for("message-delivery-receipt")
    assert delivered == {"roomId": room["id"], "userId": bob.id, "seq": 4}


async def test_message_rate_limit(aiohttp_server, aiohttp_client, settings):
    server = await aiohttp_server(
        create_app(dataclasses.replace(settings, rate_limit_messages="3/10seconds"))
    )
    chat = Chat(server, await aiohttp_client(server))
    try:
        ann, bob, room, a, b = await _pair(chat)
        acks = [
            await a.call(
                "send-message", {"roomId": room["id"], "text": f"{i}", "clientId": f"k{i}"}
            )
            for i in range(4)
        ]
        assert [ack["ok"] for ack in acks] == [True, True, True, False]
        assert acks[3]["error"]["code"] == "RATE_LIMITED"
        assert 1 <= acks[3]["error"]["details"]["retryAfter"] <= 10
        # Over the limit, a resend of an acked clientId still gets the original (lost-ack retry).
        resend = await a.call("send-message", {"roomId": room["id"], "text": "0", "clientId": "k0"})
        assert resend == acks[0]
        status, body = await chat.api(
            "POST", f"/api/rooms/{room['id']}/messages", ann, json={"text": "0", "clientId": "k0"}
        )
        assert (status, body["message"]["id"]) == (200, acks[0]["message"]["id"])
        # Per room: another room is not limited.
        other = await chat.room(ann, name="Other")
        assert (await a.call("send-message", {"roomId": other["id"], "text": "fine"}))["ok"]
        status, _ = await chat.api(
            "POST", f"/api/rooms/{room['id']}/messages", ann, json={"text": "x"}
        )
        assert status == 429
    finally:
        await chat.close()


async def test_search_only_in_my_rooms(chat):
    ann, bob, room, a, b = await _pair(chat)
    cid = await chat.user("Cid")
    secret = await chat.room(cid, "private", name="Secret")
    c = await chat.socket(cid)
    await c.call("send-message", {"roomId": secret["id"], "text": "needle in private"})
    await a.call("send-message", {"roomId": room["id"], "text": "a Needle here"})
    await a.call("send-message", {"roomId": room["id"], "text": "a.*b regex-ish"})
    _, found = await chat.api("GET", "/api/messages/search?q=needle", bob)
    assert [m["text"] for m in found["messages"]] == ["a Needle here"]
    _, found = await chat.api("GET", "/api/messages/search", bob, params={"q": ".*"})
    assert [m["text"] for m in found["messages"]] == ["a.*b regex-ish"]
    status, _ = await chat.api("GET", f"/api/messages/search?q=needle&roomId={secret['id']}", bob)
    assert status == 404

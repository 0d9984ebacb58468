"""Rooms and membership over REST and sockets: visibility, roles, invite codes, kicks, direct rooms."""

from __future__ import annotations

import asyncio

import pytest


async def test_create_and_see_rooms(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    pub = await chat.room(ann, "public", "Lobby")
    priv = await chat.room(ann, "private", "Secret")
    assert set(pub) >= {"id", "type", "name", "description", "ownerId", "memberCount", "lastSeq",
                        "lastMessage", "createdAt", "updatedAt", "myRole", "lastReadSeq"}  # fmt: skip
    assert (pub["type"], pub["ownerId"], pub["memberCount"], pub["myRole"]) == (
        "public",
        ann.id,
        1,
        "owner",
    )
    assert "inviteCode" not in pub
    assert len(priv["inviteCode"]) >= 22  # 144 random bits, URL-safe
    _, listing = await chat.api("GET", "/api/rooms", bob)
    assert [r["name"] for r in listing["rooms"]] == ["Lobby"]
    assert listing["total"] == 1
    _, found = await chat.api("GET", "/api/rooms?q=LOB", bob)
    assert [r["name"] for r in found["rooms"]] == ["Lobby"]
    status, body = await chat.api("GET", f"/api/rooms/{pub['id']}", bob)
    assert status == 200 and "myRole" not in body["room"]
    for room_id in (priv["id"], "0" * 24, "bogus"):
        status, body = await chat.api("GET", f"/api/rooms/{room_id}", bob)
        assert (status, body["error"]["code"]) == (404, "NOT_FOUND")


async def test_reading_and_writing_rooms_you_are_not_in(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    pub, priv = await chat.room(ann, "public"), await chat.room(ann, "private")
    b = await chat.socket(bob)
    status, _ = await chat.api("GET", f"/api/rooms/{pub['id']}/messages", bob)
    assert status == 200  # public rooms can be read by anyone signed in
    status, _ = await chat.api("POST", f"/api/rooms/{pub['id']}/messages", bob, json={"text": "hi"})
    assert status == 403
    ack = await b.call("send-message", {"roomId": pub["id"], "text": "hi"})
    assert ack["error"]["code"] == "FORBIDDEN"
    for status, _ in (
        await chat.api("GET", f"/api/rooms/{priv['id']}/messages", bob),
        await chat.api("POST", f"/api/rooms/{priv['id']}/messages", bob, json={"text": "hi"}),
        await chat.api("GET", f"/api/rooms/{priv['id']}/members", bob),
    ):
        assert status == 404
    assert (await b.call("send-message", {"roomId": priv["id"], "text": "x"}))["error"][
        "code"
    ] == "NOT_FOUND"
    assert (await b.call("get-history", {"roomId": priv["id"]}))["error"]["code"] == "NOT_FOUND"


async def test_join_by_invite_code_and_rotation(chat):
    ann, bob, cid = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Cid")
    priv = await chat.room(ann, "private")
    status, _ = await chat.api("POST", f"/api/rooms/{priv['id']}/join", bob, json={})
    assert status == 404  # a private room is not joined by id
    status, body = await chat.api(
        "POST", "/api/rooms/join", bob, json={"inviteCode": priv["inviteCode"]}
    )
    assert status == 200
    assert (body["room"]["myRole"], body["room"]["memberCount"]) == ("member", 2)
    assert "inviteCode" not in body["room"]  # members don't see it; owner and admins do
    status, body = await chat.api("POST", f"/api/rooms/{priv['id']}/invite-code", bob)
    assert status == 403
    status, body = await chat.api("POST", f"/api/rooms/{priv['id']}/invite-code", ann)
    new_code = body["inviteCode"]
    assert new_code != priv["inviteCode"]
    status, _ = await chat.api(
        "POST", "/api/rooms/join", cid, json={"inviteCode": priv["inviteCode"]}
    )
    assert status == 404
    c = await chat.socket(cid)
    bad = await c.call("join-room", {"roomId": priv["id"], "inviteCode": priv["inviteCode"]})
    assert bad["error"]["code"] == "NOT_FOUND"
    good = await c.call("join-room", {"roomId": priv["id"], "inviteCode": new_code})
    assert good["ok"] is True and good["room"]["memberCount"] == 3
    for payload in ({"inviteCode": {"$gt": ""}}, {"inviteCode": ""}, {}):
        status, _ = await chat.api("POST", "/api/rooms/join", cid, json=payload)
        assert status == 400


async def test_join_subscribes_every_socket_and_announces(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)
    a = await chat.socket(ann)
    b1, b2 = await chat.socket(bob), await chat.socket(bob)
    ack = await b1.call("join-room", {"roomId": room["id"]})
    assert ack["room"]["myRole"] == "member"
    joined = await a.wait_for("member-joined")
    assert (joined["roomId"], joined["user"]["id"], joined["role"]) == (
        room["id"],
        bob.id,
        "member",
    )
    msg = (await a.call("send-message", {"roomId": room["id"], "text": "welcome"}))["message"]
    assert await b1.wait_for("new-message") == msg
    assert await b2.wait_for("new-message") == msg  # the other tab was subscribed too
    again = await b2.call("join-room", {"roomId": room["id"]})
    assert again["ok"] is True  # joining twice is harmless
    _, members = await chat.api("GET", f"/api/rooms/{room['id']}/members", ann)
    # The sender's pointer moved with the send; Bob has read nothing yet.
    assert [(m["user"]["id"], m["role"], m["lastReadSeq"]) for m in members["members"]] == [
        (ann.id, "owner", msg["seq"]),
        (bob.id, "member", 0),
    ]


async def test_kick_cuts_the_member_off_at_once(chat):
    ann, bob, cid = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Cid")
    room = await chat.room(ann, "private")
    for user in (bob, cid):
        await chat.join(user, room)
    a, b, c = await chat.socket(ann), await chat.socket(bob), await chat.socket(cid)
    status, _ = await chat.api("DELETE", f"/api/rooms/{room['id']}/members/{cid.id}", bob)
    assert status == 403  # members may not kick
    status, _ = await chat.api("DELETE", f"/api/rooms/{room['id']}/members/{cid.id}", ann)
    assert status == 204
    left = await c.wait_for("member-left")
    assert left == {"roomId": room["id"], "userId": cid.id, "reason": "kicked"}
    assert await b.wait_for("member-left") == left
    await a.call("send-message", {"roomId": room["id"], "text": "after the kick"})
    await a.call("typing-start", {"roomId": room["id"]})
    await b.wait_for("new-message")
    await b.wait_for("user-typing")
    # Cid's next request is answered after both were written to the room: progress, not time.
    assert (await c.call("get-history", {"roomId": room["id"]}))["error"]["code"] == "NOT_FOUND"
    assert c.got("new-message") == [] and c.got("user-typing") == []
    assert (await c.call("typing-start", {"roomId": room["id"]}))["ok"] is False


async def test_a_kick_is_not_a_ban_until_the_invite_code_is_renewed(chat):
    """docs/API.md: a kicked member may come back with the code they hold; renewing it (the demo's
    "kick and renew the invite code") is what keeps them out."""
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann, "private")
    code = room["inviteCode"]
    members = f"/api/rooms/{room['id']}/members/{bob.id}"
    await chat.join(bob, room)
    assert (await chat.api("DELETE", members, ann))[0] == 204
    status, _ = await chat.api("POST", "/api/rooms/join", bob, json={"inviteCode": code})
    assert status == 200  # back in: a kick alone is not a ban
    assert (await chat.api("DELETE", members, ann))[0] == 204
    status, body = await chat.api("POST", f"/api/rooms/{room['id']}/invite-code", ann)
    assert status == 200 and body["inviteCode"] != code
    status, body = await chat.api("POST", "/api/rooms/join", bob, json={"inviteCode": code})
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
    b = await chat.socket(bob)
    ack = await b.call("join-room", {"roomId": room["id"], "inviteCode": code})
    assert ack["error"]["code"] == "NOT_FOUND"


async def test_roles_admins_and_kicking_rules(chat):
    ann, bob, cid = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Cid")
    room = await chat.room(ann)
    for user in (bob, cid):
        await chat.join(user, room)
    path = f"/api/rooms/{room['id']}/members"
    assert (await chat.api("PATCH", f"{path}/{cid.id}", bob, json={"role": "admin"}))[0] == 403
    status, body = await chat.api("PATCH", f"{path}/{bob.id}", ann, json={"role": "admin"})
    assert (status, body) == (200, {"userId": bob.id, "role": "admin"})
    assert (await chat.api("PATCH", f"{path}/{bob.id}", ann, json={"role": "owner"}))[0] == 400
    assert (await chat.api("PATCH", f"{path}/{ann.id}", ann, json={"role": "member"}))[0] == 403
    # An admin may rename the room and remove members, but not the owner.
    status, body = await chat.api(
        "PATCH", f"/api/rooms/{room['id']}", bob, json={"name": "Renamed"}
    )
    assert (status, body["room"]["name"]) == (200, "Renamed")
    assert (await chat.api("DELETE", f"{path}/{ann.id}", bob))[0] == 403
    assert (await chat.api("DELETE", f"{path}/{cid.id}", bob))[0] == 204
    assert (await chat.api("DELETE", f"/api/rooms/{room['id']}", bob))[0] == 403
    assert (await chat.api("PATCH", f"/api/rooms/{room['id']}", bob, json={"ownerId": bob.id}))[
        0
    ] == 400


async def test_owner_leaving_hands_over_and_last_one_out_deletes(chat):
    ann, bob, cid = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Cid")
    room = await chat.room(ann)
    await chat.join(bob, room)
    await chat.join(cid, room)
    await chat.api(
        "PATCH", f"/api/rooms/{room['id']}/members/{cid.id}", ann, json={"role": "admin"}
    )
    b = await chat.socket(bob)
    assert (await chat.api("POST", f"/api/rooms/{room['id']}/leave", ann))[0] == 204
    _, body = await chat.api("GET", f"/api/rooms/{room['id']}", cid)
    assert (body["room"]["ownerId"], body["room"]["myRole"], body["room"]["memberCount"]) == (
        cid.id,
        "owner",
        2,
    )
    assert (await b.wait_for("member-left"))["reason"] == "left"
    assert (await b.call("leave-room", {"roomId": room["id"]})) == {"ok": True}
    assert (await chat.api("POST", f"/api/rooms/{room['id']}/leave", cid))[0] == 204
    assert (await chat.api("GET", f"/api/rooms/{room['id']}", bob))[0] == 404


async def test_delete_room_takes_its_messages(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)
    await chat.join(bob, room)
    a, b = await chat.socket(ann), await chat.socket(bob)
    msg = (await a.call("send-message", {"roomId": room["id"], "text": "bye"}))["message"]
    assert (await chat.api("DELETE", f"/api/rooms/{room['id']}", bob))[0] == 403
    assert (await chat.api("DELETE", f"/api/rooms/{room['id']}", ann))[0] == 204
    assert await b.wait_for("room-deleted") == {"roomId": room["id"]}
    assert (await chat.api("GET", f"/api/rooms/{room['id']}/messages", ann))[0] == 404
    assert (await chat.api("PATCH", f"/api/messages/{msg['id']}", ann, json={"text": "x"}))[
        0
    ] == 404
    _, mine = await chat.api("GET", "/api/rooms/mine", bob)
    assert mine["rooms"] == []


async def test_direct_room_is_unique_per_pair_even_in_a_race(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    b = await chat.socket(bob)
    results = await asyncio.gather(
        *[chat.api("POST", "/api/rooms/direct", ann, json={"userId": bob.id}) for _ in range(5)],
        *[chat.api("POST", "/api/rooms/direct", bob, json={"userId": ann.id}) for _ in range(5)],
    )
    assert {status for status, _ in results} == {200}
    ids = {body["room"]["id"] for _, body in results}
    assert len(ids) == 1
    room = results[0][1]["room"]
    assert (room["type"], room["memberCount"]) == ("direct", 2)
    assert room["peer"]["id"] == bob.id
    created = await b.wait_for("room-created")
    assert created["room"]["peer"]["id"] == ann.id
    # Ann's socket opened after: it was subscribed on connect; Bob's was subscribed on creation.
    a = await chat.socket(ann)
    msg = (await a.call("send-message", {"roomId": room["id"], "text": "psst"}))["message"]
    assert await b.wait_for("new-message") == msg
    _, mine = await chat.api("GET", "/api/rooms/mine", bob)
    assert mine["rooms"][0]["peer"]["name"] == "Ann"
    assert (await chat.api("POST", "/api/rooms/direct", ann, json={"userId": ann.id}))[0] == 400
    assert (await chat.api("POST", "/api/rooms/direct", ann, json={"userId": "0" * 24}))[0] == 404
    assert (await chat.api("POST", f"/api/rooms/{room['id']}/leave", ann))[0] == 403


async def test_mine_orders_by_recent_activity(chat):
    ann = await chat.user("Ann")
    first = await chat.room(ann, name="First")
    await chat.room(ann, name="Second")
    a = await chat.socket(ann)
    await a.call("send-message", {"roomId": first["id"], "text": "bump"})
    _, mine = await chat.api("GET", "/api/rooms/mine", ann)
    assert [r["name"] for r in mine["rooms"]] == ["First", "Second"]
    assert mine["rooms"][0]["lastMessage"]["text"] == "bump"
    assert mine["rooms"][0]["lastSeq"] == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 81}, {"name": "ok", "type": "direct"}, {"name": "ok", "ownerId": "x"},
     {"name": {"$gt": ""}}, {"name": "ok", "description": 5}],
)  # fmt: skip
async def test_create_room_validation(chat, body):
    ann = await chat.user("Ann")
    status, resp = await chat.api("POST", "/api/rooms", ann, json=body)
    assert (status, resp["error"]["code"]) == (400, "VALIDATION_ERROR")

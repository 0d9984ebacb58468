"""Bans, mutes and slow mode through both doors, with real python-socketio clients: a banned
member comes back by no door; a muted member reads but sends, reacts and uploads nothing until the
mute ends; slow mode refuses a member's second message with retryAfter and spares the owner; a plain
send pays no database query for any of it; bad bodies are VALIDATION_ERROR."""

from __future__ import annotations

import dataclasses

import pytest
from prometheus_client.parser import text_string_to_metric_families

from chat.api.keys import SERVICES
from chat.store import now_ms
from tests.media_files import form, image, stored_files
from tests.realtime import Chat, Peer, User


def _code(ack: dict) -> str | None:
    return None if ack["ok"] else ack["error"]["code"]


async def _send(peer: Peer, room: dict, text: str) -> dict:
    return await peer.call("send-message", {"roomId": room["id"], "text": text})


async def test_a_banned_member_comes_back_by_no_door(chat: Chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann, "private")
    await chat.join(bob, room)
    tab1, tab2, a = await chat.socket(bob), await chat.socket(bob), await chat.socket(ann)
    status, body = await chat.api(
        "POST", f"/api/rooms/{room['id']}/bans", ann, json={"userId": bob.id, "reason": "spam"}
    )
    assert status == 201, body
    assert (body["ban"]["user"]["id"], body["ban"]["by"], body["ban"]["reason"]) == (
        bob.id,
        ann.id,
        "spam",
    )
    left = {"roomId": room["id"], "userId": bob.id, "reason": "banned"}
    for peer in (tab1, tab2, a):
        assert await peer.wait_for("member-left") == left
    # Every door: the invite code over REST and over the socket, REST and socket sends.
    status, body = await chat.api("POST", "/api/rooms/join", bob, json=_invite(room))
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    ack = await tab1.call("join-room", {"roomId": room["id"], "inviteCode": room["inviteCode"]})
    assert _code(ack) == "FORBIDDEN"
    assert _code(await _send(tab2, room, "let me in")) == "NOT_FOUND"
    status, _ = await chat.api(
        "POST", f"/api/rooms/{room['id']}/messages", bob, json={"text": "let me in"}
    )
    assert status == 404
    # Reads nothing either: his sockets left the room's channel, history is closed to him.
    assert (await _send(a, room, "after the ban"))["ok"]
    for peer in (tab1, tab2):
        await peer.round_trip()
        assert peer.got("new-message") == []
    assert (await chat.api("GET", f"/api/rooms/{room['id']}/messages", bob))[0] == 404
    status, body = await chat.api("GET", f"/api/rooms/{room['id']}/bans", ann)
    assert [b["user"]["id"] for b in body["bans"]] == [bob.id]
    assert (await chat.api("GET", f"/api/rooms/{room['id']}/bans", bob))[0] == 404
    assert (await chat.api("DELETE", f"/api/rooms/{room['id']}/bans/{bob.id}", ann))[0] == 204
    assert (await chat.api("POST", "/api/rooms/join", bob, json=_invite(room)))[0] == 200
    assert tab1.sio.connected and tab2.sio.connected


def _invite(room: dict) -> dict:
    return {"inviteCode": room["inviteCode"]}


async def test_a_public_rooms_ban_refuses_rest_and_socket_joins_and_can_come_first(chat: Chat):
    ann, bob, eve = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Eve")
    room = await chat.room(ann, "public")
    await chat.join(bob, room)
    for target in (bob, eve):  # Eve never joined: banned before she comes
        status, _ = await chat.api(
            "POST", f"/api/rooms/{room['id']}/bans", ann, json={"userId": target.id}
        )
        assert status == 201
        assert (await chat.api("POST", f"/api/rooms/{room['id']}/join", target, json={}))[0] == 403
        peer = await chat.socket(target)
        assert _code(await peer.call("join-room", {"roomId": room["id"]})) == "FORBIDDEN"
        assert peer.sio.connected
    status, body = await chat.api("GET", f"/api/rooms/{room['id']}", ann)
    assert body["room"]["memberCount"] == 1


async def test_who_bans_whom(chat: Chat):
    ann, adam, bob = await chat.user("Ann"), await chat.user("Adam"), await chat.user("Bob")
    room = await chat.room(ann)
    for user in (adam, bob):
        await chat.join(user, room)
    path = f"/api/rooms/{room['id']}"
    await chat.api("PATCH", f"{path}/members/{adam.id}", ann, json={"role": "admin"})
    assert (await chat.api("POST", f"{path}/bans", bob, json={"userId": adam.id}))[0] == 403
    assert (await chat.api("POST", f"{path}/bans", adam, json={"userId": ann.id}))[0] == 403
    assert (await chat.api("POST", f"{path}/bans", adam, json={"userId": bob.id}))[0] == 201
    assert (await chat.api("POST", f"{path}/mutes", bob, json={"userId": adam.id}))[0] == 403


@pytest.fixture
def clock(chat: Chat):
    """The served app's moderation clock, for a mute that ends without waiting for it."""

    class Clock:
        now = now_ms()

        def __call__(self) -> int:
            return self.now

    clock = Clock()
    chat.server.app[SERVICES].moderation.rules.clock = clock
    return clock


async def test_a_muted_member_reads_but_writes_nothing_until_it_ends(chat: Chat, clock, settings):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)
    await chat.join(bob, room)
    a, b = await chat.socket(ann), await chat.socket(bob)
    target = (await _send(a, room, "react to me"))["message"]
    status, body = await chat.api(
        "POST", f"/api/rooms/{room['id']}/mutes", ann, json={"userId": bob.id, "minutes": 10}
    )
    assert status == 201 and body["mute"]["until"] is not None
    refused = await _send(b, room, "muted?")
    assert refused["error"]["code"] == "FORBIDDEN"
    assert refused["error"]["details"] == {"mutedUntil": body["mute"]["until"]}
    react = {"messageId": target["id"], "emoji": "👍"}
    assert _code(await b.call("react-message", react)) == "FORBIDDEN"
    assert await _upload(chat, bob, room) == 403
    assert stored_files(settings) == []  # the refused upload left no file behind
    rest = f"/api/rooms/{room['id']}/messages"
    assert (await chat.api("POST", rest, bob, json={"text": "over REST"}))[0] == 403
    # Reads on: Ann's next message reaches him.
    sent = (await _send(a, room, "you can still read"))["message"]
    await b.wait_for("new-message", lambda m: m["id"] == sent["id"])
    assert b.sio.connected
    status, body = await chat.api("GET", f"/api/rooms/{room['id']}/mutes", ann)
    assert [m["user"]["id"] for m in body["mutes"]] == [bob.id]
    clock.now += 10 * 60_000 + 1  # the mute's end
    assert (await _send(b, room, "free again"))["ok"]
    assert (await b.call("react-message", react))["ok"]
    assert await _upload(chat, bob, room) == 201
    assert (await chat.api("POST", rest, bob, json={"text": "over REST"}))[0] == 201


async def test_a_mute_until_lifted(chat: Chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)
    await chat.join(bob, room)
    b = await chat.socket(bob)
    path = f"/api/rooms/{room['id']}/mutes"
    status, body = await chat.api("POST", path, ann, json={"userId": bob.id})
    assert (status, body["mute"]["until"]) == (201, None)
    assert _code(await _send(b, room, "muted")) == "FORBIDDEN"
    assert (await chat.api("DELETE", f"{path}/{bob.id}", ann))[0] == 204
    assert (await chat.api("DELETE", f"{path}/{bob.id}", ann))[0] == 204  # again: no change
    assert (await _send(b, room, "unmuted"))["ok"]


async def _upload(chat: Chat, user: User, room: dict) -> int:
    resp = await chat.rest.post(
        "/api/uploads", data=form(image("PNG"), "p.png", roomId=room["id"]), headers=user.auth
    )
    return resp.status


async def test_slow_mode_refuses_a_members_second_message_and_spares_the_owner(chat: Chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)
    await chat.join(bob, room)
    a, b = await chat.socket(ann), await chat.socket(bob)
    status, body = await chat.api(
        "PATCH", f"/api/rooms/{room['id']}", ann, json={"slowModeSeconds": 30}
    )
    assert (status, body["room"]["slowModeSeconds"]) == (200, 30)
    updated = await b.wait_for("room-updated")
    assert updated["room"]["slowModeSeconds"] == 30
    assert (await _send(b, room, "one"))["ok"]
    refused = await _send(b, room, "two")
    assert refused["error"]["code"] == "RATE_LIMITED"
    assert 1 <= refused["error"]["details"]["retryAfter"] <= 30
    resp = await chat.rest.post(
        f"/api/rooms/{room['id']}/messages", json={"text": "two"}, headers=bob.auth
    )
    assert resp.status == 429 and 1 <= int(resp.headers["Retry-After"]) <= 30
    for n in range(3):
        assert (await _send(a, room, f"owner {n}"))["ok"]
    await chat.api("PATCH", f"/api/rooms/{room['id']}", ann, json={"slowModeSeconds": 0})
    assert (await _send(b, room, "two"))["ok"]


def _ops(text: str) -> dict[str, float]:
    return {
        s.labels["op"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "chat_db_operations_total"
    }


MODERATION_READS = (
    "rooms.get", "mutes.of_room", "members.ids_with_roles", "blocks.between", "bans.get",
    "members.get", "members.many", "users.get",
)  # fmt: skip


async def test_a_plain_send_pays_no_query_for_moderation(aiohttp_server, aiohttp_client, settings):
    """Mutes (of someone else) and slow mode (the owner is spared) in force: a socket's sends
    still cost the batch's three operations each, and nothing more (services/room_rules.py)."""
    from chat.app import create_app

    server = await aiohttp_server(create_app(dataclasses.replace(settings, metrics_token="t")))
    chat = Chat(server, await aiohttp_client(server))
    try:
        ann, bob = await chat.user("Ann"), await chat.user("Bob")
        room = await chat.room(ann)
        await chat.join(bob, room)
        await chat.api("POST", f"/api/rooms/{room['id']}/mutes", ann, json={"userId": bob.id})
        await chat.api("PATCH", f"/api/rooms/{room['id']}", ann, json={"slowModeSeconds": 60})
        a = await chat.socket(ann)
        assert (await _send(a, room, "warm up"))["ok"]  # this node reads the room's rules once
        scrape = {"Authorization": "Bearer t"}
        before = _ops(await (await chat.rest.get("/metrics", headers=scrape)).text())
        for n in range(10):  # one after another: ten batches of one
            assert (await _send(a, room, f"m{n}"))["ok"]
        after = _ops(await (await chat.rest.get("/metrics", headers=scrape)).text())
        delta = {op: after.get(op, 0) - before.get(op, 0) for op in after}
        for op in ("rooms.reserve_seqs", "messages.insert_many", "members.advance_many"):
            assert delta[op] == 10, op
        assert {op: delta.get(op, 0) for op in MODERATION_READS} == dict.fromkeys(
            MODERATION_READS, 0
        )
    finally:
        await chat.close()


BAD_BODIES = [
    ("POST", "/bans", {"userId": "ID", "extra": 1}),
    ("POST", "/bans", {"userId": {"$gt": ""}}),
    ("POST", "/bans", {"userId": 5}),
    ("POST", "/bans", {"userId": "ID", "reason": "x" * 501}),
    ("POST", "/bans", {"userId": "ID", "reason": {"$ne": None}}),
    ("POST", "/mutes", {"userId": "ID", "minutes": "5"}),
    ("POST", "/mutes", {"userId": "ID", "minutes": 0}),
    ("POST", "/mutes", {"userId": "ID", "minutes": 2.5}),
    ("POST", "/mutes", {"userId": "ID", "minutes": True}),
    ("POST", "/mutes", {"userId": "ID", "minutes": 100_000}),
    ("POST", "/mutes", {"userId": "ID", "until": "never"}),
    ("PATCH", "", {"slowModeSeconds": -1}),
    ("PATCH", "", {"slowModeSeconds": 3601}),
    ("PATCH", "", {"slowModeSeconds": "10"}),
    ("PATCH", "", {"slowModeSeconds": True}),
    ("PATCH", "", {"slowModeSeconds": {"$gt": 0}}),
]


async def test_bad_bodies_are_validation_errors(chat: Chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)
    await chat.join(bob, room)
    peer = await chat.socket(ann)
    for method, suffix, body in BAD_BODIES:
        body = {k: (bob.id if v == "ID" else v) for k, v in body.items()}
        status, answer = await chat.api(method, f"/api/rooms/{room['id']}{suffix}", ann, json=body)
        assert (status, answer["error"]["code"]) == (400, "VALIDATION_ERROR"), (suffix, body)
    for method, path, body in [
        ("PATCH", "/api/users/me", {"allowDirectFrom": "nobody"}),
        ("PATCH", "/api/users/me", {"allowDirectFrom": ["everyone"]}),
        ("POST", f"/api/users/{bob.id}/block", {"x": 1}),
        ("POST", f"/api/users/{bob.id}/block", [1]),
    ]:
        status, answer = await chat.api(method, path, ann, json=body)
        assert (status, answer["error"]["code"]) == (400, "VALIDATION_ERROR"), (path, body)
    # Nothing changed, and the socket lives on.
    assert (await chat.api("GET", f"/api/rooms/{room['id']}/bans", ann))[1]["bans"] == []
    assert (await _send(peer, room, "still here"))["ok"]

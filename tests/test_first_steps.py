"""What a new user tripped over (issue 18): each one through the real app and real clients."""

from __future__ import annotations

import re

from tests.realtime import Chat


async def _room_with(chat: Chat, *users):
    room = await chat.room(users[0])
    for user in users[1:]:
        await chat.join(user, room)
    return room


async def test_a_send_announces_the_typist_stopped_under_their_name(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await _room_with(chat, ann, bob)
    a, b = await chat.socket(ann), await chat.socket(bob)
    assert (await a.call("typing-start", {"roomId": room["id"]}))["ok"]
    await b.wait_for("user-typing", lambda p: p["isTyping"])
    assert (await a.call("send-message", {"roomId": room["id"], "text": "hi"}))["ok"]
    stopped = await b.wait_for("user-typing", lambda p: not p["isTyping"])
    assert stopped == {"roomId": room["id"], "userId": ann.id, "name": "Ann", "isTyping": False}
    # The same through REST, the other door into the same send.
    assert (await a.call("typing-start", {"roomId": room["id"]}))["ok"]
    await b.wait_for("user-typing", lambda p: p["isTyping"] and len(b.got("user-typing")) == 3)
    status, _ = await chat.api(
        "POST", f"/api/rooms/{room['id']}/messages", ann, json={"text": "again"}
    )
    assert status == 201
    await b.wait_for("user-typing", lambda _: len(b.got("user-typing")) == 4)
    assert b.got("user-typing")[-1]["name"] == "Ann"


async def test_get_users_me_answers_your_own_profile_with_email(chat):
    ann = await chat.user("Ann")
    status, body = await chat.api("GET", "/api/users/me", ann)
    assert status == 200
    assert body["user"]["id"] == ann.id and body["user"]["email"] == ann.email
    assert (await chat.rest.get("/api/users/me")).status == 401


async def test_a_known_path_with_a_wrong_method_is_405_with_allow(chat):
    ann = await chat.user("Ann")
    resp = await chat.rest.delete("/api/users/search", headers=ann.auth)
    assert resp.status == 405
    assert (await resp.json())["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in [m.strip() for m in resp.headers["Allow"].split(",")]
    resp = await chat.rest.put("/api/auth/login", json={})
    assert resp.status == 405 and "POST" in resp.headers["Allow"]
    # An unknown path stays 404.
    assert (await chat.rest.get("/api/no-such-thing")).status == 404


async def test_health_answers_timestamp_and_environment(client):
    body = await (await client.get("/health")).json()
    assert body["environment"] == "development"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["timestamp"])
    assert {"status", "database", "uptime", "version"} <= body.keys()

"""Deleting an account (DELETE /api/users/me) and taking your data (GET /api/users/me/export),
through the real app with real sockets and the local uploads folder."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from chat.services import account_export
from tests.helpers import PASSWORD, User, all_history, bearer, register
from tests.media_files import PDF, form, image, stored_files
from tests.realtime import Chat, Peer


async def upload(chat: Chat, user: User, data: bytes, name: str, **fields: str) -> Any:
    resp = await chat.rest.post("/api/uploads", data=form(data, name, **fields), headers=user.auth)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def send(chat: Chat, user: User, room_id: str, text: str) -> dict[str, Any]:
    status, body = await chat.api(
        "POST", f"/api/rooms/{room_id}/messages", user, json={"text": text}
    )
    assert status == 201, body
    return body["message"]


async def gone(peer: Peer, within: float = 5) -> None:
    deadline = time.monotonic() + within
    while peer.sio.connected and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not peer.sio.connected


async def delete_account(chat: Chat, user: User, body: Any) -> tuple[int, Any]:
    return await chat.api("DELETE", "/api/users/me", user, json=body)


async def test_deleting_an_account_leaves_no_session_socket_or_file_and_history_reads(
    chat, settings
):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann, "private")  # Ann owns it; Bob will inherit it
    await chat.join(bob, room)
    _, direct = await chat.api("POST", "/api/rooms/direct", ann, json={"userId": bob.id})
    direct_id = direct["room"]["id"]
    said = await send(chat, ann, room["id"], "hello from Ann")
    await send(chat, ann, direct_id, "just between us")
    picture = await upload(chat, ann, image("PNG"), "a.png", roomId=room["id"])
    await upload(chat, ann, PDF, "loose.pdf")  # no room: an orphan upload
    resp = await chat.rest.post(
        "/api/users/me/avatar", data=form(image("JPEG"), "me.jpg"), headers=ann.auth
    )
    assert resp.status == 200
    await send(chat, bob, room["id"], "hi Ann")
    assert len(stored_files(settings)) == 4  # the image and its thumbnail, the PDF, the avatar
    resp = await chat.rest.post("/api/auth/login", json={"email": ann.email, "password": PASSWORD})
    other_session = (await resp.json())["token"]  # a second device: its own session
    chat.rest.session.cookie_jar.clear()
    phone, laptop = await chat.socket(ann), await chat.socket(auth={"token": other_session})
    watcher = await chat.socket(bob)

    assert await delete_account(chat, ann, {"password": PASSWORD}) == (204, None)
    for socket in (phone, laptop):
        assert await socket.wait_for("session-expired") == {"reason": "account-deleted"}
        await gone(socket)
    for token in (ann.token, other_session):
        assert (await chat.rest.get("/api/auth/me", headers=bearer(token))).status == 401
    assert stored_files(settings) == []

    # Bob hears Ann go, inherits the room, and reads all of its history.
    left = await watcher.wait_for("member-left", lambda p: p["roomId"] == room["id"])
    assert left == {"roomId": room["id"], "userId": ann.id, "reason": "left"}
    deleted = await watcher.wait_for("message-deleted")
    assert deleted["messageId"] == picture["message"]["id"]
    _, now = await chat.api("GET", f"/api/rooms/{room['id']}", bob)
    assert (now["room"]["ownerId"], now["room"]["memberCount"]) == (bob.id, 1)
    history = {m["id"]: m for m in await all_history(chat.api, room["id"], bob)}
    assert len(history) == 3
    ghost = {"id": ann.id, "name": "Deleted user", "avatarUrl": None}
    assert history[said["id"]]["sender"] == ghost
    assert history[said["id"]]["text"] == "hello from Ann"
    tombstone = history[picture["message"]["id"]]
    assert (tombstone["attachments"], tombstone["sender"]) == ([], ghost)
    assert tombstone["deletedAt"] is not None

    # The direct room stays, readable, with its peer shown as deleted.
    (kept,) = await all_history(chat.api, direct_id, bob)
    assert (kept["text"], kept["sender"]) == ("just between us", ghost)
    _, mine = await chat.api("GET", "/api/rooms/mine", bob)
    listed = {r["id"]: r for r in mine["rooms"]}
    assert listed[direct_id]["peer"]["name"] == "Deleted user"
    assert listed[direct_id]["lastMessage"]["senderName"] is None
    assert (await chat.api("GET", f"/api/users/{ann.id}", bob))[0] == 404

    # The email is free again; the old password opens nothing.
    resp = await chat.rest.post("/api/auth/login", json={"email": ann.email, "password": PASSWORD})
    assert resp.status == 401
    again = await register(chat.rest, "Ann", email=ann.email)
    assert again.id != ann.id


async def test_the_last_one_out_ends_rooms_and_direct_rooms(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    alone = await chat.room(ann, "public", "Just me")
    _, direct = await chat.api("POST", "/api/rooms/direct", ann, json={"userId": bob.id})
    await send(chat, ann, direct["room"]["id"], "hi")
    assert (await delete_account(chat, ann, {"password": PASSWORD}))[0] == 204
    assert (await chat.api("GET", f"/api/rooms/{alone['id']}", bob))[0] == 404
    assert (await delete_account(chat, bob, {"password": PASSWORD}))[0] == 204
    carl = await chat.user("Carl")
    assert (await chat.api("GET", f"/api/rooms/{direct['room']['id']}", carl))[0] == 404


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"password": "not my password"}, 403, "FORBIDDEN"),
        ({}, 400, "VALIDATION_ERROR"),
        (None, 400, "VALIDATION_ERROR"),
        ({"password": PASSWORD, "userId": "someone else"}, 400, "VALIDATION_ERROR"),
        ({"password": {"$ne": ""}}, 400, "VALIDATION_ERROR"),
    ],
)
async def test_refused_deletions_change_nothing(chat, body, status, code):
    ann = await chat.user("Ann")
    socket = await chat.socket(ann)
    answer = await delete_account(chat, ann, body)
    assert (answer[0], answer[1]["error"]["code"]) == (status, code)
    await socket.round_trip()
    assert socket.sio.connected
    assert socket.got("session-expired") == []
    assert (await chat.api("GET", "/api/users/me", ann))[0] == 200
    assert (await chat.rest.delete("/api/users/me", json={"password": PASSWORD})).status == 401


async def test_export_is_one_json_download(chat, monkeypatch):
    monkeypatch.setattr(account_export, "PAGE", 2)  # several pages from a few messages
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    first = await chat.room(ann, "public", "First")
    second = await chat.room(bob, "private", "Second")
    await chat.join(ann, second)
    _, direct = await chat.api("POST", "/api/rooms/direct", ann, json={"userId": bob.id})
    sent = [await send(chat, ann, first["id"], f"one {i}") for i in range(3)]
    sent += [
        await send(chat, ann, second["id"], "two"),
        await send(chat, ann, direct["room"]["id"], "dm"),
    ]
    await send(chat, bob, second["id"], "not Ann's")
    gone_msg = await send(chat, ann, first["id"], "deleted later")
    assert (await chat.api("DELETE", f"/api/messages/{gone_msg['id']}", ann))[0] == 204
    assert (await chat.api("POST", f"/api/rooms/{second['id']}/leave", ann, json={}))[0] == 204

    resp = await chat.rest.get("/api/users/me/export", headers=ann.auth)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Content-Disposition"] == (
        f'attachment; filename="chat-export-{ann.id}.json"'
    )
    export = json.loads(await resp.read())
    assert set(export) == {"exportedAt", "profile", "memberships", "messages"}
    assert (export["profile"]["id"], export["profile"]["email"]) == (ann.id, ann.email)
    memberships = {m["roomId"]: m for m in export["memberships"]}
    assert set(memberships) == {first["id"], direct["room"]["id"]}  # Second was left
    assert memberships[first["id"]]["name"] == "First"
    assert (memberships[first["id"]]["type"], memberships[first["id"]]["role"]) == (
        "public",
        "owner",
    )
    assert memberships[direct["room"]["id"]]["peerId"] == bob.id
    assert memberships[first["id"]]["joinedAt"].endswith("Z")
    # Every message Ann sent and did not delete, rooms she left included; nobody else's.
    assert sorted(m["id"] for m in export["messages"]) == sorted(m["id"] for m in sent)
    assert {m["sender"]["id"] for m in export["messages"]} == {ann.id}


async def test_export_of_an_account_with_no_messages(chat):
    ann = await chat.user("Ann")
    resp = await chat.rest.get("/api/users/me/export", headers=ann.auth)
    export = json.loads(await resp.read())
    assert (export["memberships"], export["messages"]) == ([], [])
    assert (await chat.rest.get("/api/users/me/export")).status == 401


async def test_a_file_message_goes_as_a_delete_takes_it(chat, settings):
    """The deletion's tombstone is the one a delete makes (MessageService.tombstone): reactions
    gone, `message-deleted` with a ver, the room's summary a deleted message of nobody's."""
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(bob, "public")
    await chat.join(ann, room)
    picture = (await upload(chat, ann, image("PNG"), "a.png", roomId=room["id"]))["message"]
    path = f"/api/messages/{picture['id']}/reactions"
    assert (await chat.api("POST", path, bob, json={"emoji": "👍"}))[0] == 200
    watcher = await chat.socket(bob)

    assert (await delete_account(chat, ann, {"password": PASSWORD}))[0] == 204
    deleted = await watcher.wait_for("message-deleted")
    assert (deleted["messageId"], deleted["roomId"]) == (picture["id"], room["id"])
    assert deleted["ver"] > picture["ver"]
    history = {m["id"]: m for m in await all_history(chat.api, room["id"], bob)}
    tombstone = history[picture["id"]]
    assert (tombstone["reactions"], tombstone["attachments"]) == ([], [])
    assert tombstone["deletedAt"] is not None
    _, mine = await chat.api("GET", "/api/rooms/mine", bob)
    (listed,) = [r for r in mine["rooms"] if r["id"] == room["id"]]
    last = listed["lastMessage"]
    assert (last["id"], last["deleted"], last["text"], last["senderName"]) == (
        picture["id"], True, "", None
    )  # fmt: skip
    assert stored_files(settings) == []

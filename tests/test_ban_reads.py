"""A user banned from a public room reads nothing of it, by any door, though anyone else signed
in still reads it without joining: the room, its history, changes, pins, threads, members, media,
file stats, search, mentions, presence, typing, both forms of sync, and reports (one read rule:
services/access.py `may_read`). Lifting the ban opens it to them again, as to any outsider."""

from __future__ import annotations

from typing import Any

from tests.realtime import Chat, Peer, User


def _code(ack: dict) -> str | None:
    return None if ack["ok"] else ack["error"]["code"]


ROOM_READS = ["", "/messages", "/changes?since=0", "/pins", "/members", "/media", "/files/stats"]


async def _rest_reads(chat: Chat, user: User, room_id: str, root_id: str) -> dict[str, int]:
    """Every REST read of the room: path -> status."""
    paths = [f"/api/rooms/{room_id}{tail}" for tail in ROOM_READS]
    paths.append(f"/api/messages/{root_id}/thread")
    return {path: (await chat.api("GET", path, user))[0] for path in paths}


async def _found(chat: Chat, user: User, room_id: str) -> dict[str, Any]:
    """What search (in the room, everywhere) and the mentions list give the user."""
    status, _ = await chat.api("GET", f"/api/messages/search?q=after&roomId={room_id}", user)
    _, everywhere = await chat.api("GET", "/api/messages/search?q=after", user)
    _, mentions = await chat.api("GET", "/api/mentions", user)
    return {
        "search the room": status,
        "search everywhere": [m["text"] for m in everywhere["messages"]],
        "mentions": [m["text"] for m in mentions["messages"]],
    }


async def _socket_reads(peer: Peer, room_id: str, root_id: str) -> dict[str, Any]:
    """Every socket read of the room: event -> error code (None: answered) or the sync entry."""
    by_seq = await peer.call("sync", {"rooms": {room_id: 0}})
    by_ver = await peer.call("sync", {"rooms": {room_id: {"ver": 0}}})
    return {
        "get-history": _code(await peer.call("get-history", {"roomId": room_id})),
        "get-thread": _code(await peer.call("get-thread", {"messageId": root_id})),
        "room-presence": _code(await peer.call("room-presence", {"roomId": room_id})),
        "typing-start": _code(await peer.call("typing-start", {"roomId": room_id})),
        "sync by seq": _entry(by_seq),
        "sync by ver": _entry(by_ver),
    }


def _entry(ack: dict) -> tuple[str | None, list[str]]:
    assert ack["ok"], ack
    (entry,) = ack["rooms"]
    return (entry.get("error") or {}).get("code"), sorted(m["text"] for m in entry["messages"])


async def test_a_user_banned_from_a_public_room_reads_nothing_of_it(chat: Chat):
    ann, bob, cat = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Cat")
    room = await chat.room(ann, "public")
    room_id = room["id"]
    await chat.join(bob, room)
    a = await chat.socket(ann)
    mention = {"roomId": room_id, "text": "hi Bob", "mentions": [bob.id]}
    root = (await a.call("send-message", mention))["message"]
    assert (await chat.api("POST", f"/api/messages/{root['id']}/pin", ann))[0] == 200
    reply = {"roomId": room_id, "text": "in the thread", "threadId": root["id"]}
    assert (await a.call("send-message", reply))["ok"]
    status, _ = await chat.api("POST", f"/api/rooms/{room_id}/bans", ann, json={"userId": bob.id})
    assert status == 201
    after = (await a.call("send-message", {"roomId": room_id, "text": "after the ban"}))["message"]
    b = await chat.socket(bob)

    refused = await _rest_reads(chat, bob, room_id, root["id"])
    assert refused == dict.fromkeys(refused, 404)
    # Search reads only the rooms you are a member of; mentions only those you may read.
    assert await _found(chat, bob, room_id) == {
        "search the room": 404,
        "search everywhere": [],
        "mentions": [],
    }
    assert await _socket_reads(b, room_id, root["id"]) == {
        "get-history": "NOT_FOUND",
        "get-thread": "NOT_FOUND",
        "room-presence": "NOT_FOUND",
        "typing-start": "NOT_FOUND",
        "sync by seq": ("NOT_FOUND", []),
        "sync by ver": ("NOT_FOUND", []),
    }
    report = await chat.api(
        "POST", f"/api/messages/{after['id']}/report", bob, json={"reason": "x"}
    )
    assert report[0] == 404
    # The directory still lists the public room, without its last message for him.
    _, directory = await chat.api("GET", "/api/rooms?limit=100", bob)
    listed = next(r for r in directory["rooms"] if r["id"] == room_id)
    assert listed["lastMessage"] is None
    _, directory = await chat.api("GET", "/api/rooms?limit=100", cat)
    assert next(r for r in directory["rooms"] if r["id"] == room_id)["lastMessage"] is not None

    # Cat, who never joined and is not banned, reads all of it (search: members' rooms only).
    read = await _rest_reads(chat, cat, room_id, root["id"])
    assert read == dict.fromkeys(read, 200)
    c = await chat.socket(cat)
    got = await _socket_reads(c, room_id, root["id"])
    assert got["sync by ver"] == (None, ["after the ban", "hi Bob", "in the thread"])
    assert {k: v for k, v in got.items() if not k.startswith("sync")} == {
        "get-history": None,
        "get-thread": None,
        "room-presence": None,
        "typing-start": "NOT_FOUND",  # typing is for members
    }

    # Unbanned: an outsider again, who reads the room and sees the mention of him again.
    assert (await chat.api("DELETE", f"/api/rooms/{room_id}/bans/{bob.id}", ann))[0] == 204
    status, body = await chat.api("GET", f"/api/rooms/{room_id}/messages", bob)
    assert (status, [m["text"] for m in body["messages"]][-1]) == (200, "after the ban")
    assert (await chat.api("GET", "/api/mentions", bob))[1]["messages"][0]["id"] == root["id"]
    got = await _socket_reads(b, room_id, root["id"])
    assert got["sync by ver"] == (None, ["after the ban", "hi Bob", "in the thread"])

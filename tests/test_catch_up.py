"""Catch-up by change cursor: sync {rooms: {id: {ver}}} and GET /api/rooms/{id}/changes."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil

import pytest

from chat.app import create_app
from chat.store.embedded import EmbeddedMongo
from tests.cluster import Api, Node, RedisServer, node_env
from tests.helpers import all_history
from tests.realtime import Chat, Peer, open_peer


async def _pair(chat: Chat, kind: str = "public"):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann, kind)
    await chat.join(bob, room)
    return ann, bob, room, await chat.socket(ann), await chat.socket(bob)


async def _send(peer: Peer, room_id: str, text: str) -> dict:
    ack = await peer.call("send-message", {"roomId": room_id, "text": text})
    assert ack["ok"], ack
    return ack["message"]


async def _catch_up(peer: Peer, cursors: dict[str, int], state: dict[str, dict]) -> int:
    """Sync every room from its cursor until nothing is left, applying each message by id (the
    answer holds each in its current state); returns the round trips it took."""
    trips = 0
    pending = dict(cursors)
    while pending:
        trips += 1
        got = await peer.call("sync", {"rooms": {r: {"ver": v} for r, v in pending.items()}})
        assert got["ok"] is True, got
        pending = {}
        for entry in got["rooms"]:
            vers = [m["ver"] for m in entry["messages"]]
            assert vers == sorted(set(vers))  # ascending, each message once
            for message in entry["messages"]:
                state[message["id"]] = message
            cursors[entry["roomId"]] = entry["ver"]
            if entry["hasMore"]:
                pending[entry["roomId"]] = entry["ver"]
    return trips


async def test_everything_missed_is_caught_up_in_one_round_trip(chat):
    ann, bob, room, a, b = await _pair(chat)
    watcher = await chat.socket(ann)  # Ann's second tab hears every change live
    old = [await _send(a, room["id"], f"old {i}") for i in range(4)]
    await b.wait_for("new-message", lambda m: m["seq"] == 4)
    # Bob's client: the room's history, and its cursor the newest ver it holds.
    state = {m["id"]: m for m in await all_history(chat.api, room["id"], bob)}
    cursor = max(m["ver"] for m in state.values())
    _, body = await chat.api("GET", f"/api/rooms/{room['id']}", bob)
    assert cursor == body["room"]["lastVer"] == 4
    await b.close()

    edited = await a.call("edit-message", {"messageId": old[0]["id"], "text": "old 0, fixed"})
    assert await a.call("delete-message", {"messageId": old[1]["id"]}) == {"ok": True}
    reacted = await a.call("react-message", {"messageId": old[2]["id"], "emoji": "🎉"})
    new = [await _send(a, room["id"], f"new {i}") for i in range(2)]
    status, direct = await chat.api("POST", "/api/rooms/direct", ann, json={"userId": bob.id})
    assert status == 200
    hello = await _send(a, direct["room"]["id"], "psst")

    # Every change took the room's next ver, and the live events carry it.
    assert edited["message"]["ver"] == 5
    deleted = await watcher.wait_for("message-deleted")
    assert deleted == {"messageId": old[1]["id"], "roomId": room["id"], "seq": 2, "ver": 6}
    reaction = await watcher.wait_for("reaction-updated")
    assert (reaction["ver"], reaction["reactions"]) == (7, reacted["reactions"])
    assert [m["ver"] for m in new] == [8, 9]
    assert (await watcher.wait_for("message-updated"))["ver"] == 5

    b2 = await chat.socket(bob)
    got = await b2.call("sync", {"rooms": {room["id"]: {"ver": cursor}}})
    assert got["ok"] is True
    [entry] = got["rooms"]
    assert [m["id"] for m in entry["messages"]] == [
        old[0]["id"], old[1]["id"], old[2]["id"], new[0]["id"], new[1]["id"]
    ]  # fmt: skip
    assert (entry["roomId"], entry["ver"], entry["hasMore"]) == (room["id"], 9, False)
    # The direct room Ann opened meanwhile is among the rooms the request did not name.
    [joined] = got["joined"]
    assert (joined["id"], joined["type"], joined["lastVer"]) == (direct["room"]["id"], "direct", 1)
    assert joined["peer"]["id"] == ann.id and joined["unreadCount"] == 1

    for message in entry["messages"]:
        state[message["id"]] = message
    fresh = await all_history(chat.api, room["id"], bob)
    assert sorted(state.values(), key=lambda m: m["seq"]) == fresh
    assert fresh[0]["text"] == "old 0, fixed" and fresh[0]["editedAt"]
    assert fresh[1]["deletedAt"] and fresh[1]["text"] == ""
    assert fresh[2]["reactions"] == [{"emoji": "🎉", "count": 1, "userIds": [ann.id]}]

    # The joined room caught up from 0 the same way; nothing is left anywhere after that.
    direct_state: dict[str, dict] = {}
    cursors = {room["id"]: entry["ver"], joined["id"]: 0}
    assert await _catch_up(b2, cursors, direct_state) == 1
    assert list(direct_state.values()) == [hello]
    again = await b2.call("sync", {"rooms": {r: {"ver": v} for r, v in cursors.items()}})
    assert [(e["messages"], e["ver"], e["hasMore"]) for e in again["rooms"]] == [
        ([], 9, False), ([], 1, False)
    ]  # fmt: skip
    assert again["joined"] == []


async def test_two_hundred_fifty_changes_page_by_a_hundred(chat):
    ann, bob, room, a, b = await _pair(chat)
    acks = await asyncio.gather(
        *(a.call("send-message", {"roomId": room["id"], "text": f"m{i}"}) for i in range(250))
    )
    assert sorted(ack["message"]["ver"] for ack in acks) == list(range(1, 251))
    pages, cursor = [], 0
    while True:
        got = await b.call("sync", {"rooms": {room["id"]: {"ver": cursor}}})
        [entry] = got["rooms"]
        pages.append(entry)
        cursor = entry["ver"]
        if not entry["hasMore"]:
            break
    assert [(len(p["messages"]), p["hasMore"]) for p in pages] == [
        (100, True), (100, True), (50, False)
    ]  # fmt: skip
    assert [p["ver"] for p in pages] == [100, 200, 250]
    assert [m["ver"] for p in pages for m in p["messages"]] == list(range(1, 251))
    # The REST twin pages the same way, and its limit is the page size.
    path = f"/api/rooms/{room['id']}/changes"
    status, first = await chat.api("GET", path, bob)
    assert status == 200
    assert first == {"messages": pages[0]["messages"], "ver": 100, "hasMore": True}
    _, last = await chat.api("GET", f"{path}?since=240&limit=5", bob)
    assert ([m["ver"] for m in last["messages"]], last["ver"], last["hasMore"]) == (
        [241, 242, 243, 244, 245], 245, True
    )  # fmt: skip
    _, done = await chat.api("GET", f"{path}?since=250", bob)
    assert done == {"messages": [], "ver": 250, "hasMore": False}


async def test_bad_cursors_are_validation_errors(chat):
    ann, bob, room, a, b = await _pair(chat)
    for i in range(3):
        await _send(a, room["id"], f"x{i}")
    busy = await chat.room(ann, name="Busy")
    await chat.join(bob, busy)
    for i in range(6):
        await _send(a, busy["id"], f"y{i}")
    # A cursor from the future, or from the busier room's range, is refused, never a 500.
    for cursors in (
        {room["id"]: {"ver": 4}},
        {room["id"]: {"ver": 6}, busy["id"]: {"ver": 6}},
        {busy["id"]: {"ver": 0}, room["id"]: {"ver": 2**53 - 1}},
    ):
        got = await b.call("sync", {"rooms": cursors})
        assert got["ok"] is False and got["error"]["code"] == "VALIDATION_ERROR", got
        assert list(got["error"]["details"]["fields"]["rooms"]) == [room["id"]]
    path = f"/api/rooms/{room['id']}/changes"
    for bad in ("since=4", "since=-1", "since=x", "limit=0", "limit=101", "since=1&since=2",
                "since=%7B%22%24gt%22%3A0%7D", "other=1"):  # fmt: skip
        status, body = await chat.api("GET", f"{path}?{bad}", bob)
        assert (status, body["error"]["code"]) == (400, "VALIDATION_ERROR"), bad
    # Bad shapes.
    for value in ({"ver": -1}, {"ver": "1"}, {"ver": 1.5}, {"ver": True}, {}, {"ver": 1, "x": 2},
                  {"$gt": 0}, [1], "3", None, True):  # fmt: skip
        got = await b.call("sync", {"rooms": {room["id"]: value}})
        assert got["ok"] is False and got["error"]["code"] == "VALIDATION_ERROR", value
    too_many = {f"{i:024x}": {"ver": 0} for i in range(501)}
    got = await b.call("sync", {"rooms": too_many})
    assert got["error"]["code"] == "VALIDATION_ERROR"
    # A room one may not read (never could, left, or no such room) answers NOT_FOUND, no leak.
    cid = await chat.user("Cid")
    secret = await chat.room(cid, "private")
    await chat.api("POST", f"/api/rooms/{busy['id']}/leave", bob)
    hidden = await chat.room(ann, "private", name="Gone")
    await chat.api("DELETE", f"/api/rooms/{hidden['id']}", ann)
    got = await b.call("sync", {"rooms": {r: {"ver": 0} for r in (secret["id"], hidden["id"])}})
    assert [(e["roomId"], e["error"]["code"], e["messages"]) for e in got["rooms"]] == [
        (secret["id"], "NOT_FOUND", []), (hidden["id"], "NOT_FOUND", [])
    ]  # fmt: skip
    assert [r["id"] for r in got["joined"]] == [room["id"]]  # busy was left
    status, _ = await chat.api("GET", f"/api/rooms/{secret['id']}/changes", bob)
    assert status == 404


async def test_mixed_forms_answer_each_room_in_its_own_form(chat):
    ann, bob, room, a, b = await _pair(chat)
    other = await chat.room(ann, name="Other")
    await chat.join(bob, other)
    first = await _send(a, room["id"], "one")
    await _send(a, room["id"], "two")
    await a.call("edit-message", {"messageId": first["id"], "text": "one, edited"})
    await _send(a, other["id"], "three")
    # Plain numbers alone: today's form, exactly (no ver, no joined).
    plain = await b.call("sync", {"rooms": {room["id"]: 1}})
    assert set(plain) == {"ok", "rooms"} and set(plain["rooms"][0]) == {
        "roomId", "messages", "hasMore"
    }  # fmt: skip
    assert [m["text"] for m in plain["rooms"][0]["messages"]] == ["two"]  # new messages only
    mixed = await b.call("sync", {"rooms": {room["id"]: 1, other["id"]: {"ver": 0}}})
    by_seq, by_ver = mixed["rooms"]
    assert by_seq == plain["rooms"][0]
    assert ([m["text"] for m in by_ver["messages"]], by_ver["ver"]) == (["three"], 1)
    assert mixed["joined"] == []
    cursor = await b.call("sync", {"rooms": {room["id"]: {"ver": 1}}})
    assert [m["text"] for m in cursor["rooms"][0]["messages"]] == ["two", "one, edited"]
    assert [r["id"] for r in cursor["joined"]] == [other["id"]]


async def test_cursors_still_work_after_a_server_restart(aiohttp_server, aiohttp_client, settings):
    first = await aiohttp_server(create_app(settings))
    chat = Chat(first, await aiohttp_client(first))
    ann, bob, room, a, b = await _pair(chat)
    sent = [await _send(a, room["id"], f"x{i}") for i in range(3)]
    await chat.close()
    await first.close()

    second = await aiohttp_server(create_app(dataclasses.replace(settings)))
    chat2 = Chat(second, await aiohttp_client(second))
    try:
        a2 = await chat2.socket(ann)
        edited = await a2.call("edit-message", {"messageId": sent[0]["id"], "text": "x0!"})
        after = await _send(a2, room["id"], "after restart")
        assert (edited["message"]["ver"], after["ver"], after["seq"]) == (4, 5, 4)
        b2 = await chat2.socket(bob)
        got = await b2.call("sync", {"rooms": {room["id"]: {"ver": sent[-1]["ver"]}}})
        assert [m["text"] for m in got["rooms"][0]["messages"]] == ["x0!", "after restart"]
        assert got["rooms"][0]["ver"] == 5
    finally:
        await chat2.close()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
async def test_two_nodes_changing_one_room_hand_out_each_ver_once(
    mongo: EmbeddedMongo, tmp_path, api: Api
):
    redis = RedisServer(tmp_path)
    redis.start()
    env = node_env(mongo.uri, redis.url, tmp_path)
    nodes = [Node(env), Node(env)]
    peers: list[Peer] = []
    try:
        for node in nodes:
            node.start()
        users = [await api.user(nodes[0], f"U{i}") for i in range(4)]
        _, body = await api.call(nodes[0], "POST", "/api/rooms", users[0], json={"name": "x"})
        room = body["room"]
        for user in users[1:]:
            await api.call(nodes[1], "POST", f"/api/rooms/{room['id']}/join", user, json={})
        for i, user in enumerate(users):
            peers.append(await open_peer(nodes[i % 2].url, user))
        seeds = [await _send(peers[0], room["id"], f"seed {i}") for i in range(4)]

        async def changes(i: int, peer: Peer) -> list[int]:
            """Sends, edits of its own seed and reactions, all at once; the vers it saw."""
            vers = []
            calls = [peer.call("send-message", {"roomId": room["id"], "text": f"{i}:{n}"})
                     for n in range(10)]  # fmt: skip
            for target in seeds:
                calls.append(peer.call("react-message", {"messageId": target["id"],
                                                         "emoji": "👍"}))  # fmt: skip
            if i == 0:
                calls += [peer.call("edit-message", {"messageId": s["id"], "text": "e"})
                          for s in seeds]  # fmt: skip
            for ack in await asyncio.gather(*calls):
                assert ack["ok"], ack
                if "message" in ack:
                    vers.append(ack["message"]["ver"])
            return vers

        seen = await asyncio.gather(*(changes(i, p) for i, p in enumerate(peers)))
        acked = [v for vers in seen for v in vers]
        reactions = len(peers) * len(seeds)
        total = len(seeds) + len(acked) + reactions
        # Every reaction event carries its ver: with the acks, each ver 5..total exactly once.
        listener = peers[1]
        for _ in range(200):
            if len(listener.got("reaction-updated")) == reactions:
                break
            await asyncio.sleep(0.05)
        heard = [e["ver"] for e in listener.got("reaction-updated")]
        assert sorted(acked + heard) == list(range(len(seeds) + 1, total + 1))
        _, body = await api.call(nodes[1], "GET", f"/api/rooms/{room['id']}", users[1])
        assert body["room"]["lastVer"] == total
        # Syncing from 0 on either node: every message once, vers strictly increasing.
        for node_peer in (peers[0], peers[1]):
            state: dict[str, dict] = {}
            await _catch_up(node_peer, {room["id"]: 0}, state)
            vers = sorted(m["ver"] for m in state.values())
            assert len(set(vers)) == len(vers) == len(seeds) + len(peers) * 10
            assert vers[-1] == total
    finally:
        for peer in peers:
            await peer.close()
        for node in nodes:
            node.stop()
        redis.stop()

"""Mutes in storage: the send path reads a room's mutes in force only, at most MUTES_HELD of them
(a sender beyond those is looked up by id), and ended mutes leave the database by its TTL index
on `expiresAt` (the embedded server deletes them on the collection's next read; MongoDB within
about a minute)."""

from __future__ import annotations

from chat.api.keys import SERVICES
from chat.services.room_rules import MUTES_HELD
from chat.store import now_ms
from chat.store.base import ms_to_datetime, new_id
from tests.realtime import Chat

HOUR_MS = 3_600_000


async def _send(chat: Chat, peer, room_id: str, text: str) -> str | None:
    ack = await peer.call("send-message", {"roomId": room_id, "text": text})
    return None if ack["ok"] else ack["error"]["code"]


async def test_only_mutes_in_force_are_read_and_ended_ones_leave_the_database(chat: Chat):
    ann, bob, cat = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Cat")
    room = await chat.room(ann)
    room_id = room["id"]
    for user in (bob, cat):
        await chat.join(user, room)
    services = chat.server.app[SERVICES]
    mutes = services.moderation.store.mutes
    for _ in range(300):  # mutes that ended an hour ago, as a mute with minutes is stored
        await mutes.put(room_id, new_id(), ann.id, now_ms() - HOUR_MS)
    status, body = await chat.api(
        "POST", f"/api/rooms/{room_id}/mutes", ann, json={"userId": bob.id, "minutes": 10}
    )
    assert status == 201
    rules = await services.moderation.rules.of(room_id)
    assert rules is not None
    assert list(rules.mutes) == [bob.id]  # not the 300 that ended
    assert rules.every_mute
    b, c = await chat.socket(bob), await chat.socket(cat)
    assert await _send(chat, b, room_id, "muted") == "FORBIDDEN"
    assert await _send(chat, c, room_id, "not muted") is None
    _, listed = await chat.api("GET", f"/api/rooms/{room_id}/mutes", ann)
    assert [m["user"]["id"] for m in listed["mutes"]] == [bob.id]
    # The TTL index, and its date on every mute with an end: the ended ones are gone.
    indexes = await mutes.c.index_information()
    assert [
        (i["key"], i.get("expireAfterSeconds"))
        for i in indexes.values()
        if "expireAfterSeconds" in i
    ] == [([("expiresAt", 1)], 0)]
    stored = await mutes.c.find({"roomId": room_id}).to_list()
    assert [(d["userId"], d["expiresAt"]) for d in stored] == [
        (bob.id, ms_to_datetime(rules.mutes[bob.id].until or 0))
    ]


async def test_a_room_with_more_mutes_in_force_than_held_still_refuses_each_one(chat: Chat):
    ann, bob, cat = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Cat")
    room = await chat.room(ann)
    room_id = room["id"]
    for user in (bob, cat):
        await chat.join(user, room)
    services = chat.server.app[SERVICES]
    for _ in range(MUTES_HELD + 50):
        await services.moderation.store.mutes.put(room_id, new_id(), ann.id, None)
    path = f"/api/rooms/{room_id}/mutes"
    assert (await chat.api("POST", path, ann, json={"userId": bob.id}))[0] == 201
    rules = await services.moderation.rules.of(room_id)
    assert rules is not None
    # Bob's mute, stored last, is not among those held: his sends are checked by a lookup.
    assert (len(rules.mutes), rules.every_mute, bob.id in rules.mutes) == (MUTES_HELD, False, False)
    b, c = await chat.socket(bob), await chat.socket(cat)
    assert await _send(chat, b, room_id, "muted") == "FORBIDDEN"
    rest = await chat.api("POST", f"/api/rooms/{room_id}/messages", bob, json={"text": "muted"})
    assert rest[0] == 403
    sent = await c.call("send-message", {"roomId": room_id, "text": "not muted"})
    assert sent["ok"]
    react = {"messageId": sent["message"]["id"], "emoji": "👍"}
    assert (await b.call("react-message", react))["error"]["code"] == "FORBIDDEN"
    assert (await chat.api("DELETE", f"{path}/{bob.id}", ann))[0] == 204
    assert await _send(chat, b, room_id, "unmuted") is None

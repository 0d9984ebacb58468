"""Presence: pushed only to the members of a user's direct rooms and small rooms (and to those
who subscribed to the user), once per change; grace timers checked by progress."""

from __future__ import annotations

from chat.domain import User
from tests.services.conftest import ROOM_LIMIT, World
from tests.services.recorder import Sent, to


async def _circles(world: World) -> tuple[list[User], list[str]]:
    """Ann with Bob in a direct room, with Cid in a small room, and with Dan, Eve and Fay in a
    big one (more than ROOM_LIMIT members); Gus shares nothing with Ann."""
    users = await world.users("Ann", "Bob", "Cid", "Dan", "Eve", "Fay", "Gus")
    ann, bob, cid, dan, eve, fay, _ = users
    await world.services.rooms.direct(ann.id, bob.id)
    await world.room(ann, cid)
    await world.room(ann, dan, eve, fay)
    world.recorder.take()
    return users, await world.services.rooms.room_ids(ann.id)


async def test_online_and_offline_reach_direct_and_small_rooms_only(world: World):
    (ann, bob, cid, *_), room_ids = await _circles(world)
    assert len(room_ids) == 3 and ROOM_LIMIT < 4
    presence = world.services.presence
    peers = await presence.connected(bob.id, "b1", await world.services.rooms.room_ids(bob.id))
    assert peers == []  # nobody else is online
    world.recorder.take()

    assert await presence.connected(ann.id, "a1", room_ids) == [bob.id]
    assert world.recorder.take() == [
        Sent("user-online", {"userId": ann.id}, **to(users=[bob.id, cid.id], watchers_of=[ann.id]))
    ]
    await presence.connected(ann.id, "a2", room_ids)  # a second tab: nothing new
    await presence.disconnected(ann.id, "a1")  # one tab still open: nothing
    assert world.recorder.take() == []

    await presence.disconnected(ann.id, "a2")
    await world.recorder.until(1)  # after the grace period
    [offline] = world.recorder.take()
    assert offline == Sent(
        "user-offline",
        {"userId": ann.id, "lastSeen": offline.payload["lastSeen"]},
        **to(users=[bob.id, cid.id], watchers_of=[ann.id]),
    )
    assert (await world.services.users.view_of(ann.id))["lastSeen"] == offline.payload["lastSeen"]


async def test_a_reload_within_the_grace_period_is_not_announced(world: World):
    (ann, bob, *_), room_ids = await _circles(world)
    presence = world.services.presence
    await presence.connected(ann.id, "a1", room_ids)
    await presence.connected(bob.id, "b1", await world.services.rooms.room_ids(bob.id))
    world.recorder.take()
    await presence.disconnected(ann.id, "a1")
    await presence.connected(ann.id, "a2", room_ids)  # the page came back at once
    # Bob leaves after Ann did: his grace timer ends after hers, so when his offline is told,
    # hers has settled (silently).
    await presence.disconnected(bob.id, "b1")
    await world.recorder.until(1)
    assert [(s.event, s.payload["userId"]) for s in world.recorder.sent()] == [
        ("user-offline", bob.id)
    ]


async def test_a_status_change_is_told_once_to_each_peer_and_the_user(world: World):
    ann, bob, _eve = await world.users("Ann", "Bob", "Eve")  # Eve shares no room with Ann
    await world.room(ann, bob)  # two shared rooms: still one event, Bob named once
    await world.room(bob, ann)
    presence = world.services.presence
    await presence.connected(ann.id, "a1", await world.services.rooms.room_ids(ann.id))
    world.recorder.take()
    await world.services.users.set_status(ann.id, "busy")
    busy = {"userId": ann.id, "status": "busy"}
    assert world.recorder.take() == [
        Sent("user-status-update", busy, **to(users=[bob.id, ann.id], watchers_of=[ann.id]))
    ]


async def test_invisible_is_offline_to_peers_and_a_status_to_oneself(world: World):
    ann, bob = await world.users("Ann", "Bob")
    await world.room(ann, bob)
    presence = world.services.presence
    await presence.connected(ann.id, "a1", await world.services.rooms.room_ids(ann.id))
    world.recorder.take()
    await world.services.users.set_status(ann.id, "offline")
    status, offline = world.recorder.sent()
    assert status == Sent(
        "user-status-update", {"userId": ann.id, "status": "offline"}, **to(users=[ann.id])
    )
    assert offline == Sent(
        "user-offline", offline.payload, **to(users=[bob.id], watchers_of=[ann.id])
    )
    assert await presence.online([ann.id]) == set()
    await world.services.users.set_status(ann.id, "online")  # visible again
    assert [(s.event, s.users) for s in world.recorder.sent()] == [
        ("user-online", frozenset({bob.id})),
        ("user-status-update", frozenset({bob.id, ann.id})),
    ]

"""Membership: join, leave, kick, roles and the owner's succession, with their exact audiences."""

from __future__ import annotations

import pytest

from chat.errors import Forbidden, NotFound, ValidationFailed
from tests.services.conftest import World
from tests.services.recorder import Channel, Sent, to


async def test_join_subscribes_then_tells_the_room_once(world: World):
    ann, bob = await world.user("Ann"), await world.user("Bob")
    rooms = world.services.rooms
    room_id = await world.room(ann)
    view = await rooms.join(bob.id, room_id)
    assert (view["myRole"], view["memberCount"]) == ("member", 2)
    joined = {
        "roomId": room_id,
        "user": await world.services.users.view_of(bob.id),
        "role": "member",
    }
    assert world.recorder.take() == [
        Channel("subscribe", bob.id, room_id),
        Sent("member-joined", joined, **to(rooms=[room_id])),
    ]
    assert await rooms.join(bob.id, room_id) == view  # twice is harmless and silent
    assert world.recorder.take() == []


async def test_a_private_room_is_joined_with_its_current_code(world: World):
    ann, bob = await world.user("Ann"), await world.user("Bob")
    rooms = world.services.rooms
    room_id = await world.room(ann, kind="private")
    code = (await rooms.get(ann.id, room_id))["inviteCode"]
    fresh = await rooms.new_invite_code(ann.id, room_id)
    with pytest.raises(NotFound):
        await rooms.join_by_invite(bob.id, code)
    assert world.recorder.take() == []
    assert (await rooms.join_by_invite(bob.id, fresh))["id"] == room_id
    assert [e.event if isinstance(e, Sent) else e.op for e in world.recorder.take()] == [
        "subscribe",
        "member-joined",
    ]


async def test_leave_tells_the_room_and_the_leaver_then_unsubscribes(world: World):
    ann, bob = await world.user("Ann"), await world.user("Bob")
    room_id = await world.room(ann, bob)
    await world.services.rooms.leave(bob.id, room_id)
    left = {"roomId": room_id, "userId": bob.id, "reason": "left"}
    assert world.recorder.take() == [
        Sent("member-left", left, **to(rooms=[room_id], users=[bob.id])),
        Channel("unsubscribe", bob.id, room_id),
    ]
    with pytest.raises(Forbidden):  # a public room: readable, but not Bob's to leave again
        await world.services.rooms.leave(bob.id, room_id)
    assert world.recorder.take() == []


async def test_kick_rules_and_audience(world: World):
    ann, bob, cid, dan, out = await world.users("Ann", "Bob", "Cid", "Dan", "Out")
    rooms = world.services.rooms
    room_id = await world.room(ann, bob, cid, dan, kind="private")
    await rooms.set_role(ann.id, room_id, bob.id, "admin")
    await rooms.set_role(ann.id, room_id, dan.id, "admin")
    world.recorder.take()
    refusals = [
        (cid.id, dan.id, Forbidden),  # members may not kick
        (bob.id, dan.id, Forbidden),  # an admin may not remove an admin
        (bob.id, ann.id, Forbidden),  # nobody removes the owner
        (ann.id, out.id, NotFound),  # not a member
        (ann.id, "not-an-id", NotFound),
        (ann.id, ann.id, ValidationFailed),  # leave, don't kick yourself
        (out.id, cid.id, NotFound),  # to an outsider a private room does not exist
    ]
    for who, target, error in refusals:
        with pytest.raises(error):
            await rooms.kick(who, room_id, target)
    assert world.recorder.take() == []

    await rooms.kick(bob.id, room_id, cid.id)
    kicked = {"roomId": room_id, "userId": cid.id, "reason": "kicked"}
    assert world.recorder.take() == [
        Sent("member-left", kicked, **to(rooms=[room_id], users=[cid.id])),
        Channel("unsubscribe", cid.id, room_id),
    ]
    # Cut off at once: the room's later events go to its channel, which Cid has left, and
    # every door refuses Cid as the outsider Cid now is.
    for refused in (
        world.services.messages.send(cid.id, room_id, "still here?"),
        world.services.typing.start(cid.id, "Cid", room_id),
        world.services.history.page(cid.id, room_id, before=None, after=None, limit=50),
        world.services.rooms.get(cid.id, room_id),
    ):
        with pytest.raises(NotFound):
            await refused
    assert world.recorder.take() == []


async def test_role_changes_are_the_owners_and_told_to_the_room(world: World):
    ann, bob, cid = await world.users("Ann", "Bob", "Cid")
    rooms = world.services.rooms
    room_id = await world.room(ann, bob, cid)
    assert await rooms.set_role(ann.id, room_id, bob.id, "admin") == {
        "userId": bob.id,
        "role": "admin",
    }
    changed = {"roomId": room_id, "userId": bob.id, "role": "admin"}
    assert world.recorder.take() == [Sent("member-role-updated", changed, **to(rooms=[room_id]))]
    for who, target, error in [
        (bob.id, cid.id, Forbidden),  # admins do not hand out roles
        (ann.id, ann.id, Forbidden),  # the owner's role cannot change
        (ann.id, "0" * 24, NotFound),
    ]:
        with pytest.raises(error):
            await rooms.set_role(who, room_id, target, "admin")
    assert world.recorder.take() == []


async def test_an_owner_who_leaves_hands_the_room_to_the_longest_standing_admin(world: World):
    ann, bob, cid, dan = await world.users("Ann", "Bob", "Cid", "Dan")
    rooms = world.services.rooms
    room_id = await world.room(ann, bob, cid, dan)  # Bob is the longest-standing member ...
    await rooms.set_role(ann.id, room_id, dan.id, "admin")  # ... but Dan is an admin
    await rooms.set_role(ann.id, room_id, cid.id, "admin")  # (Cid became one after Dan)
    world.recorder.take()

    await rooms.leave(ann.id, room_id)
    views = {u.id: await rooms.get(u.id, room_id) for u in (bob, cid, dan)}
    left = {"roomId": room_id, "userId": ann.id, "reason": "left"}
    assert world.recorder.take() == [
        Sent("member-left", left, **to(rooms=[room_id], users=[ann.id])),
        Channel("unsubscribe", ann.id, room_id),
        *(Sent("room-updated", {"room": views[u.id]}, **to(users=[u.id])) for u in (bob, cid, dan)),
    ]
    assert views[bob.id]["memberCount"] == 3  # told without the owner who left
    # Cid joined the room before Dan (though promoted after): Cid is the longest-standing admin.
    assert views[cid.id]["ownerId"] == cid.id and views[cid.id]["myRole"] == "owner"
    roles = {m["user"]["id"]: m["role"] for m in await rooms.members(bob.id, room_id)}
    assert roles == {bob.id: "member", cid.id: "owner", dan.id: "admin"}


async def test_without_admins_the_longest_standing_member_inherits(world: World):
    ann, bob, cid = await world.users("Ann", "Bob", "Cid")
    rooms = world.services.rooms
    room_id = await world.room(ann, bob, cid)
    await rooms.leave(ann.id, room_id)
    told = [
        e.payload["room"]["memberCount"] for e in world.recorder.sent() if e.event == "room-updated"
    ]
    assert told == [2, 2]  # to Bob and Cid, counted without Ann
    assert (await rooms.get(bob.id, room_id))["myRole"] == "owner"
    assert (await rooms.get(cid.id, room_id))["myRole"] == "member"


async def test_the_last_one_out_deletes_the_room(world: World):
    ann = await world.user("Ann")
    room_id = await world.room(ann)
    await world.services.rooms.leave(ann.id, room_id)
    assert world.recorder.take() == [
        Sent("room-deleted", {"roomId": room_id}, **to(rooms=[room_id])),
        Channel("unsubscribe", ann.id, room_id),
    ]
    with pytest.raises(NotFound):
        await world.services.rooms.get(ann.id, room_id)

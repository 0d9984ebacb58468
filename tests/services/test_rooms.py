"""Rooms: who hears of a room being made, changed and deleted, and who may do it."""

from __future__ import annotations

import pytest

from chat.errors import Forbidden, NotFound
from tests.services.conftest import World
from tests.services.recorder import Channel, Sent, to


async def test_create_tells_the_owner_only(world: World):
    ann = await world.user("Ann")
    await world.user("Bob")  # exists, hears nothing
    view = await world.services.rooms.create(ann.id, "Lobby", "hi", "public")
    assert view == await world.services.rooms.get(ann.id, view["id"])
    assert (view["myRole"], view["memberCount"]) == ("owner", 1)
    assert world.recorder.take() == [
        Channel("subscribe", ann.id, view["id"]),
        Sent("room-created", {"room": view}, **to(users=[ann.id])),
    ]


async def test_update_tells_each_member_the_room_as_they_see_it(world: World):
    ann, bob, cid, out = await world.users("Ann", "Bob", "Cid", "Out")
    rooms = world.services.rooms
    room_id = await world.room(ann, bob, cid)
    await rooms.set_role(ann.id, room_id, bob.id, "admin")
    world.recorder.take()

    await rooms.update(bob.id, room_id, {"name": "Renamed", "type": "private"})
    views = {u.id: await rooms.get(u.id, room_id) for u in (ann, bob, cid)}
    assert world.recorder.take() == [
        Sent("room-updated", {"room": views[u.id]}, **to(users=[u.id])) for u in (ann, bob, cid)
    ]
    # Each sees their own role; the new invite code only the managers.
    assert [views[u.id]["myRole"] for u in (ann, bob, cid)] == ["owner", "admin", "member"]
    assert views[ann.id]["inviteCode"] == views[bob.id]["inviteCode"]
    assert "inviteCode" not in views[cid.id]

    with pytest.raises(Forbidden):
        await rooms.update(cid.id, room_id, {"name": "Mine now"})
    with pytest.raises(NotFound):
        await rooms.update(out.id, room_id, {"name": "Mine now"})
    with pytest.raises(Forbidden):
        await rooms.new_invite_code(cid.id, room_id)
    assert world.recorder.take() == []


async def test_delete_tells_the_room_then_lets_every_member_go(world: World):
    ann, bob, cid = await world.users("Ann", "Bob", "Cid")
    rooms = world.services.rooms
    room_id = await world.room(ann, bob, cid)
    await rooms.set_role(ann.id, room_id, bob.id, "admin")
    world.recorder.take()
    for refused in (bob, cid):  # only the owner deletes
        with pytest.raises(Forbidden):
            await rooms.delete(refused.id, room_id)
    assert world.recorder.take() == []

    await rooms.delete(ann.id, room_id)
    first, *rest = world.recorder.take()
    assert first == Sent("room-deleted", {"roomId": room_id}, **to(rooms=[room_id]))
    assert sorted(rest, key=lambda c: c.user_id) == sorted(
        (Channel("unsubscribe", u.id, room_id) for u in (ann, bob, cid)), key=lambda c: c.user_id
    )
    with pytest.raises(NotFound):
        await rooms.get(ann.id, room_id)


async def test_a_private_room_hides_from_outsiders(world: World):
    ann, out = await world.user("Ann"), await world.user("Out")
    rooms = world.services.rooms
    room_id = await world.room(ann, kind="private")
    for action in (
        rooms.get(out.id, room_id),
        rooms.members(out.id, room_id),
        rooms.join(out.id, room_id),
        rooms.join(out.id, room_id, "not-the-code"),
        rooms.join_by_invite(out.id, "not-the-code"),
    ):
        with pytest.raises(NotFound):
            await action
    assert world.recorder.take() == []

"""Direct rooms: made once per pair on first use, told to both, and fixed in shape."""

from __future__ import annotations

import pytest

from chat.errors import Forbidden, NotFound, ValidationFailed
from tests.services.conftest import World
from tests.services.recorder import Channel, Sent, to


async def test_the_first_use_makes_it_and_tells_both_each_their_view(world: World):
    ann, bob, cid = await world.users("Ann", "Bob", "Cid")
    rooms = world.services.rooms
    view = await rooms.direct(ann.id, bob.id)
    room_id = view["id"]
    assert view["type"] == "direct" and view["memberCount"] == 2
    assert view["peer"] == await world.services.users.view_of(bob.id)
    theirs = await rooms.get(bob.id, room_id)
    assert theirs["peer"] == await world.services.users.view_of(ann.id)
    pair = sorted([ann.id, bob.id])
    views = {uid: await rooms.get(uid, room_id) for uid in pair}
    assert world.recorder.take() == [
        *(Channel("subscribe", uid, room_id) for uid in pair),
        *(Sent("room-created", {"room": views[uid]}, **to(users=[uid])) for uid in pair),
    ]
    # Either side asking again gets the same room; nobody hears anything.
    assert (await rooms.direct(bob.id, ann.id))["id"] == room_id
    assert await rooms.direct(ann.id, bob.id) == view
    assert world.recorder.take() == []
    with pytest.raises(NotFound):
        await rooms.get(cid.id, room_id)


async def test_refusals(world: World):
    ann, bob = await world.users("Ann", "Bob")
    rooms = world.services.rooms
    with pytest.raises(ValidationFailed):
        await rooms.direct(ann.id, ann.id)
    with pytest.raises(NotFound):
        await rooms.direct(ann.id, "0" * 24)
    room_id = (await rooms.direct(ann.id, bob.id))["id"]
    world.recorder.take()
    for refused in (
        rooms.update(ann.id, room_id, {"name": "ours"}),
        rooms.kick(ann.id, room_id, bob.id),
        rooms.leave(ann.id, room_id),
        rooms.delete(ann.id, room_id),
    ):
        with pytest.raises(Forbidden):
            await refused
    cid = await world.user("Cid")
    with pytest.raises(NotFound):
        await rooms.join(cid.id, room_id)
    assert world.recorder.take() == []

"""Typing: told to the room but the typist's own connections, on change only, and stopped by a
send or by the timeout. Timers are checked by progress: a later timer firing."""

from __future__ import annotations

import pytest

from chat.errors import Forbidden, NotFound
from tests.services.conftest import World
from tests.services.recorder import Sent, to


def _typing(room_id: str, user, is_typing: bool) -> Sent:
    payload = {"roomId": room_id, "userId": user.id, "name": user.name, "isTyping": is_typing}
    return Sent("user-typing", payload, **to(rooms=[room_id], skip_users=[user.id]))


async def test_a_flood_of_starts_is_one_event_and_a_send_stops_it(world: World):
    ann, bob = await world.users("Ann", "Bob")
    room_id = await world.room(ann, bob)
    typing = world.services.typing
    for _ in range(200):
        await typing.start(ann.id, "Ann", room_id)
    assert world.recorder.take() == [_typing(room_id, ann, True)]
    sent, _ = await world.services.messages.send(ann.id, room_id, "done typing")
    assert world.recorder.take() == [
        Sent("new-message", sent, **to(rooms=[room_id]), echo=False),
        _typing(room_id, ann, False),
    ]
    # Ann's timer was cancelled by the send: Bob's, started later, fires later, and is all.
    await typing.start(bob.id, "Bob", room_id)
    await world.recorder.until(2)
    assert world.recorder.take() == [_typing(room_id, bob, True), _typing(room_id, bob, False)]
    await typing.stop(ann.id, room_id)  # not typing: nothing to tell
    assert world.recorder.take() == []


async def test_typing_expires_under_the_name_it_started_with(world: World):
    ann, bob = await world.users("Ann", "Bob")
    room_id = await world.room(ann, bob)
    await world.services.typing.start(ann.id, "Ann", room_id)
    await world.recorder.until(2)
    assert world.recorder.take() == [_typing(room_id, ann, True), _typing(room_id, ann, False)]


async def test_only_members_type(world: World):
    ann, out = await world.users("Ann", "Out")
    room_id = await world.room(ann)
    for action in (
        world.services.typing.start(out.id, "Out", room_id),
        world.services.typing.stop(out.id, room_id),
    ):
        with pytest.raises(NotFound):
            await action
    assert world.recorder.take() == []


async def test_a_muted_member_shows_no_typing(world: World):
    ann, bob = await world.users("Ann", "Bob")
    room_id = await world.room(ann, bob)
    await world.services.moderation.mute(ann.id, room_id, bob.id, None)
    world.recorder.take()
    with pytest.raises(Forbidden):
        await world.services.typing.start(bob.id, "Bob", room_id)
    assert world.recorder.take() == []
    await world.services.moderation.unmute(ann.id, room_id, bob.id)
    world.recorder.take()
    await world.services.typing.start(bob.id, "Bob", room_id)
    assert world.recorder.take() == [_typing(room_id, bob, True)]

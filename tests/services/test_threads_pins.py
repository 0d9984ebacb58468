"""Threads and pins: which events a reply, a pin and a deleted reply announce, to whom, in order."""

from __future__ import annotations

import pytest

from chat.errors import Forbidden, ValidationFailed
from chat.services import threads
from tests.services.conftest import World
from tests.services.recorder import Sent, to


async def test_a_reply_announces_itself_then_its_root(world: World):
    ann, bob = await world.users("Ann", "Bob")
    room_id = await world.room(ann, bob)
    messages = world.services.messages
    root, _ = await messages.send(ann.id, room_id, "root")
    world.recorder.take()

    reply, _ = await messages.send(bob.id, room_id, "reply", thread_id=root["id"])
    await world.recorder.until(2)  # the root is counted and announced right after the ack
    events = world.recorder.take()
    assert [e.event for e in events] == ["new-message", "message-updated"]
    assert events[0] == Sent("new-message", reply, **to(rooms=[room_id]), echo=False)
    updated = events[1].payload
    assert events[1] == Sent("message-updated", updated, **to(rooms=[room_id]))
    assert updated["id"] == root["id"] and updated["ver"] == reply["ver"] + 1
    assert updated["thread"]["replyCount"] == 1
    assert updated["thread"]["participantIds"] == [bob.id]

    with pytest.raises(ValidationFailed):  # one level deep
        await messages.send(ann.id, room_id, "deeper", thread_id=reply["id"])
    assert world.recorder.take() == []

    await messages.delete(bob.id, reply["id"])
    events = world.recorder.take()
    assert [e.event for e in events] == ["message-deleted", "message-updated"]
    assert events[1].payload["thread"] is None  # no replies left
    assert events[1].payload["ver"] == events[0].payload["ver"] + 1


async def test_a_pin_is_a_managers_change_told_to_the_room(world: World):
    ann, bob = await world.users("Ann", "Bob")
    room_id = await world.room(ann, bob)
    sent, _ = await world.services.messages.send(bob.id, room_id, "pin me")
    world.recorder.take()
    with pytest.raises(Forbidden):
        await world.services.pins.pin(bob.id, sent["id"])
    assert world.recorder.take() == []

    pinned = await world.services.pins.pin(ann.id, sent["id"])
    assert pinned["pinned"] is not None and pinned["pinned"]["by"] == ann.id
    assert pinned["ver"] == sent["ver"] + 1
    assert world.recorder.take() == [Sent("message-updated", pinned, **to(rooms=[room_id]))]
    assert await world.services.pins.pin(ann.id, sent["id"]) == pinned  # again: no change
    assert world.recorder.take() == []
    assert await world.services.pins.of_room(bob.id, room_id) == [pinned]


async def test_a_root_names_its_first_repliers_only(world: World, monkeypatch):
    monkeypatch.setattr(threads, "MAX_PARTICIPANTS", 2)
    ann, bob, cat, dan = await world.users("Ann", "Bob", "Cat", "Dan")
    room_id = await world.room(ann, bob, cat, dan)
    messages = world.services.messages
    root, _ = await messages.send(ann.id, room_id, "root")
    for user in (bob, cat, dan, bob):
        await messages.send(user.id, room_id, "reply", thread_id=root["id"])
    await world.recorder.until(1 + 4 * 2)  # the root, then each reply and its root's update
    updates = [e.payload for e in world.recorder.take() if e.event == "message-updated"]
    assert updates[-1]["thread"]["replyCount"] == 4
    assert updates[-1]["thread"]["participantIds"] == [bob.id, cat.id]

"""Messages: send, edit, delete and react, each told to the room's channel exactly once."""

from __future__ import annotations

import pytest

from chat.errors import Forbidden, NotFound, ValidationFailed
from tests.services.conftest import World
from tests.services.recorder import Sent, to


async def test_a_send_reaches_the_room_but_not_the_sending_connection(world: World):
    ann, bob, out = await world.users("Ann", "Bob", "Out")
    room_id = await world.room(ann, bob)
    messages = world.services.messages
    world.recorder.current_origin = "ann-socket-1"  # as if Ann's socket sent it
    view, created = await messages.send(ann.id, room_id, "hello", client_id="c1")
    assert created is True
    assert (view["seq"], view["text"], view["clientId"]) == (1, "hello", "c1")
    # echo=False with Ann's connection as the origin: her other tabs hear it, that one has
    # the ack instead.
    assert world.recorder.take() == [
        Sent("new-message", view, **to(rooms=[room_id]), echo=False, origin="ann-socket-1")
    ]
    # The same clientId again (a lost ack, from any door): the first message, and silence.
    world.recorder.current_origin = "ann-socket-2"
    assert await messages.send(ann.id, room_id, "hello", client_id="c1") == (view, False)
    world.recorder.current_origin = None  # REST: no connection to skip
    assert await messages.send(ann.id, room_id, "hello", client_id="c1") == (view, False)
    assert world.recorder.take() == []
    again, _ = await messages.send(ann.id, room_id, "via rest")
    assert world.recorder.take() == [
        Sent("new-message", again, **to(rooms=[room_id]), echo=False, origin=None)
    ]

    with pytest.raises(Forbidden):  # a public room: readable, not writable, by outsiders
        await messages.send(out.id, room_id, "let me in")
    with pytest.raises(NotFound):
        await messages.send(ann.id, "0" * 24, "nowhere")
    secret = await world.room(ann, kind="private")
    with pytest.raises(NotFound):
        await messages.send(out.id, secret, "let me in")
    elsewhere, _ = await messages.send(ann.id, secret, "elsewhere")
    world.recorder.take()
    with pytest.raises(ValidationFailed):
        await messages.send(ann.id, room_id, "re", reply_to=elsewhere["id"])
    assert world.recorder.take() == []


async def test_edit_is_the_senders_and_told_to_the_room(world: World):
    ann, bob = await world.users("Ann", "Bob")
    room_id = await world.room(ann, bob)
    messages = world.services.messages
    sent, _ = await messages.send(ann.id, room_id, "first")
    world.recorder.take()
    with pytest.raises(Forbidden):
        await messages.edit(bob.id, sent["id"], "hijack")  # not even the room's owner could
    with pytest.raises(NotFound):
        await messages.edit(ann.id, "0" * 24, "nothing")
    assert world.recorder.take() == []
    edited = await messages.edit(ann.id, sent["id"], "fixed")
    assert (edited["text"], edited["ver"]) == ("fixed", 2) and edited["editedAt"]
    assert world.recorder.take() == [Sent("message-updated", edited, **to(rooms=[room_id]))]


async def test_delete_is_the_senders_or_a_managers_and_told_to_the_room(world: World):
    ann, bob, cid = await world.users("Ann", "Bob", "Cid")
    room_id = await world.room(ann, bob, cid)
    messages = world.services.messages
    bobs, _ = await messages.send(bob.id, room_id, "spam")
    world.recorder.take()
    with pytest.raises(Forbidden):
        await messages.delete(cid.id, bobs["id"])  # another member
    assert world.recorder.take() == []
    await messages.delete(ann.id, bobs["id"])  # the owner
    deleted = {"messageId": bobs["id"], "roomId": room_id, "seq": 1, "ver": 2}
    assert world.recorder.take() == [Sent("message-deleted", deleted, **to(rooms=[room_id]))]
    await messages.delete(bob.id, bobs["id"])  # already a tombstone: nothing more to tell
    assert world.recorder.take() == []
    with pytest.raises(NotFound):
        await messages.edit(bob.id, bobs["id"], "zombie")


async def test_a_reaction_toggles_and_is_told_to_the_room(world: World):
    ann, bob, out = await world.users("Ann", "Bob", "Out")
    room_id = await world.room(ann, bob)
    messages = world.services.messages
    sent, _ = await messages.send(ann.id, room_id, "react to me")
    world.recorder.take()
    reactions = await messages.react(bob.id, sent["id"], "👍")
    assert reactions == [{"emoji": "👍", "count": 1, "userIds": [bob.id]}]
    payload = {"messageId": sent["id"], "roomId": room_id, "reactions": reactions, "ver": 2}
    assert world.recorder.take() == [Sent("reaction-updated", payload, **to(rooms=[room_id]))]
    assert await messages.react(bob.id, sent["id"], "👍") == []  # taken back
    [undone] = world.recorder.sent()
    assert (undone.payload["reactions"], undone.payload["ver"]) == ([], 3)
    with pytest.raises(Forbidden):
        await messages.react(out.id, sent["id"], "👍")
    assert world.recorder.take() == []

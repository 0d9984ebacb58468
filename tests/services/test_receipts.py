"""Read and delivery receipts: pointers only move forward, and only a move is told."""

from __future__ import annotations

import pytest

from chat.errors import NotFound
from tests.services.conftest import World
from tests.services.recorder import Sent, to


async def test_read_and_delivered_receipts(world: World):
    ann, bob, out = await world.users("Ann", "Bob", "Out")
    room_id = await world.room(ann, bob, kind="private")
    for i in range(3):
        await world.services.messages.send(ann.id, room_id, f"m{i}")
    world.recorder.take()
    receipts = world.services.receipts

    assert await receipts.mark_read(bob.id, room_id, 2) == 2
    [read] = world.recorder.sent()
    assert read == Sent("message-read-receipt", read.payload, **to(rooms=[room_id]))
    assert {k: v for k, v in read.payload.items() if k != "readAt"} == {
        "roomId": room_id,
        "userId": bob.id,
        "seq": 2,
    }
    assert read.payload["readAt"].endswith("Z")
    assert await receipts.mark_read(bob.id, room_id, 1) == 2  # never back, and silent
    assert world.recorder.take() == []
    assert await receipts.mark_read(bob.id, room_id, 99) == 3  # never past the last message
    assert [s.payload["seq"] for s in world.recorder.sent()] == [3]

    assert await receipts.mark_delivered(bob.id, room_id, 3) == 3
    delivered = {"roomId": room_id, "userId": bob.id, "seq": 3}
    assert world.recorder.take() == [
        Sent("message-delivery-receipt", delivered, **to(rooms=[room_id]))
    ]
    assert await receipts.mark_delivered(bob.id, room_id, 3) == 3
    assert world.recorder.take() == []

    for mark in (receipts.mark_read, receipts.mark_delivered):
        with pytest.raises(NotFound):
            await mark(out.id, room_id, 1)
    assert world.recorder.take() == []

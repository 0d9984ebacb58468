"""Safety and moderation in the services: bans, mutes with a clock, slow mode, blocks and
allowDirectFrom, with the exact events a ban announces; and rules changed behind a node's back
(as another node would) still refuse the next send."""

from __future__ import annotations

import dataclasses

import pytest

from chat.errors import Forbidden, NotFound, RateLimited, ValidationFailed
from chat.services.accounts import Principal
from chat.store import now_ms
from tests.services.conftest import World
from tests.services.recorder import Channel, Sent, to


@pytest.fixture
def settings(settings):
    # The real per-user limits are far above what these tests send; slow mode is per room.
    return dataclasses.replace(settings, rate_limit_messages="1000/10seconds")


async def _history(world: World, user_id: str, room_id: str) -> list:
    messages, _ = await world.services.history.page(
        user_id, room_id, before=None, after=None, limit=50
    )
    return messages


class Clock:
    def __init__(self) -> None:
        self.now = now_ms()

    def __call__(self) -> int:
        return self.now


async def test_a_ban_removes_the_member_everywhere_and_keeps_them_out(world: World):
    ann, bob = await world.users("Ann", "Bob")
    room_id = await world.room(ann, bob)
    moderation, rooms = world.services.moderation, world.services.rooms
    ban = await moderation.ban(ann.id, room_id, bob.id, "spam")
    assert (ban["user"]["id"], ban["by"], ban["reason"]) == (bob.id, ann.id, "spam")
    left = {"roomId": room_id, "userId": bob.id, "reason": "banned"}
    assert world.recorder.take() == [
        Sent("member-left", left, **to(rooms=[room_id], users=[bob.id])),
        Channel("unsubscribe", bob.id, room_id),
    ]
    with pytest.raises(Forbidden, match="banned"):
        await rooms.join(bob.id, room_id)
    with pytest.raises(Forbidden):  # and a banned ex-member writes nothing
        await world.services.messages.send(bob.id, room_id, "back door")
    assert world.recorder.take() == []
    assert [b["user"]["id"] for b in await moderation.bans(ann.id, room_id)] == [bob.id]
    await moderation.unban(ann.id, room_id, bob.id)
    await moderation.unban(ann.id, room_id, bob.id)  # twice: no change
    assert (await rooms.join(bob.id, room_id))["myRole"] == "member"


async def test_a_private_rooms_invite_code_does_not_let_a_banned_user_back(world: World):
    ann, bob = await world.users("Ann", "Bob")
    room_id = await world.room(ann, bob, kind="private")
    code = (await world.services.rooms.get(ann.id, room_id))["inviteCode"]
    await world.services.moderation.ban(ann.id, room_id, bob.id, None)
    with pytest.raises(Forbidden):
        await world.services.rooms.join_by_invite(bob.id, code)
    with pytest.raises(Forbidden):
        await world.services.rooms.join(bob.id, room_id, code)


async def test_who_may_ban_whom_mirrors_kicking_and_strangers_can_be_banned(world: World):
    ann, adam, bob, cat, eve = await world.users("Ann", "Adam", "Bob", "Cat", "Eve")
    room_id = await world.room(ann, adam, bob)
    await world.services.rooms.set_role(ann.id, room_id, adam.id, "admin")
    moderation = world.services.moderation
    with pytest.raises(Forbidden):  # a member bans nobody
        await moderation.ban(bob.id, room_id, cat.id, None)
    with pytest.raises(Forbidden):  # nobody bans the owner
        await moderation.ban(adam.id, room_id, ann.id, None)
    await world.services.rooms.join(cat.id, room_id)
    await world.services.rooms.set_role(ann.id, room_id, cat.id, "admin")
    with pytest.raises(Forbidden):  # an admin does not ban an admin
        await moderation.ban(adam.id, room_id, cat.id, None)
    with pytest.raises(ValidationFailed):
        await moderation.ban(ann.id, room_id, ann.id, None)
    with pytest.raises(NotFound):
        await moderation.ban(ann.id, room_id, "0" * 24, None)
    # Eve has never been here: banned before she comes.
    world.recorder.take()
    await moderation.ban(adam.id, room_id, eve.id, "known troll")
    assert world.recorder.take() == []  # nobody to remove, nothing to tell
    with pytest.raises(Forbidden):
        await world.services.rooms.join(eve.id, room_id)
    direct = (await world.services.rooms.direct(ann.id, bob.id))["id"]
    with pytest.raises(Forbidden):
        await moderation.ban(ann.id, direct, bob.id, None)


async def test_a_mute_refuses_sends_edits_and_reactions_until_it_expires(world: World):
    ann, bob = await world.users("Ann", "Bob")
    room_id = await world.room(ann, bob)
    clock = Clock()
    world.services.moderation.rules.clock = clock
    messages = world.services.messages
    own, _ = await messages.send(bob.id, room_id, "before")
    mute = await world.services.moderation.mute(ann.id, room_id, bob.id, 5)
    assert mute["until"] is not None
    world.recorder.take()
    with pytest.raises(Forbidden, match="muted") as refused:
        await messages.send(bob.id, room_id, "during")
    assert refused.value.details == {"mutedUntil": mute["until"]}
    with pytest.raises(Forbidden):
        await messages.react(bob.id, own["id"], "👍")
    with pytest.raises(Forbidden):
        await messages.edit(bob.id, own["id"], "edited")
    assert world.recorder.take() == []
    # Reading goes on; leaving and coming back does not lift it.
    assert await _history(world, bob.id, room_id)
    await world.services.rooms.leave(bob.id, room_id)
    await world.services.rooms.join(bob.id, room_id)
    with pytest.raises(Forbidden):
        await messages.send(bob.id, room_id, "rejoined")
    clock.now += 5 * 60_000 + 1
    view, created = await messages.send(bob.id, room_id, "after")
    assert created and view["seq"] == 2
    await messages.react(bob.id, own["id"], "👍")


async def test_a_mute_without_minutes_lasts_until_lifted(world: World):
    ann, bob = await world.users("Ann", "Bob")
    room_id = await world.room(ann, bob)
    clock = Clock()
    world.services.moderation.rules.clock = clock
    mute = await world.services.moderation.mute(ann.id, room_id, bob.id, None)
    assert mute["until"] is None
    clock.now += 365 * 86_400_000
    with pytest.raises(Forbidden):
        await world.services.messages.send(bob.id, room_id, "a year later")
    assert [m["user"]["id"] for m in await world.services.moderation.mutes(ann.id, room_id)] == [
        bob.id
    ]
    await world.services.moderation.unmute(ann.id, room_id, bob.id)
    assert (await world.services.messages.send(bob.id, room_id, "free"))[1] is True
    with pytest.raises(NotFound):  # only members are muted
        await world.services.moderation.mute(ann.id, room_id, (await world.user("Cat")).id, 1)


async def test_rules_changed_behind_this_nodes_back_still_refuse_the_next_send(world: World):
    """Another node mutes Bob: this node's cached rules do not know, the reservation does."""
    ann, bob = await world.users("Ann", "Bob")
    room_id = await world.room(ann, bob)
    messages, store = world.services.messages, world.services.moderation.store
    await messages.send(bob.id, room_id, "warms the cache")
    await store.mutes.put(room_id, bob.id, ann.id, None)  # as ModerationService does elsewhere
    await store.rooms.bump_rules(room_id)
    with pytest.raises(Forbidden, match="muted"):
        await messages.send(bob.id, room_id, "refused", member_known=True)
    await store.mutes.remove(room_id, bob.id)
    await store.rooms.bump_rules(room_id)
    view, _ = await messages.send(bob.id, room_id, "allowed again", member_known=True)
    assert view["seq"] == 2  # the refused send took no seq: no gap


async def test_slow_mode_spares_the_owner_and_admins_and_counts_per_member(world: World):
    ann, adam, bob = await world.users("Ann", "Adam", "Bob")
    room_id = await world.room(ann, adam, bob)
    rooms, messages = world.services.rooms, world.services.messages
    await rooms.set_role(ann.id, room_id, adam.id, "admin")
    view = await rooms.update(ann.id, room_id, {"slowModeSeconds": 30})
    assert view["slowModeSeconds"] == 30
    await messages.send(bob.id, room_id, "one", client_id="b1")
    with pytest.raises(RateLimited) as limited:
        await messages.send(bob.id, room_id, "two")
    assert 1 <= limited.value.retry_after <= 30
    # A resend of the stored message is answered with it, not refused.
    assert (await messages.send(bob.id, room_id, "one", client_id="b1"))[1] is False
    for _ in range(3):
        await messages.send(ann.id, room_id, "owner")
        await messages.send(adam.id, room_id, "admin")
    await rooms.update(ann.id, room_id, {"slowModeSeconds": 0})
    assert (await messages.send(bob.id, room_id, "two"))[1] is True


async def test_slow_mode_tells_a_stranger_only_that_there_is_no_such_room(world: World):
    ann, bob, out = await world.users("Ann", "Bob", "Out")
    room_id = await world.room(ann, bob, kind="private")
    await world.services.rooms.update(ann.id, room_id, {"slowModeSeconds": 60})
    for _ in range(2):
        with pytest.raises(NotFound):
            await world.services.messages.send(out.id, room_id, "hello?")


async def test_blocking_closes_direct_rooms_both_ways_and_silently(world: World):
    ann, bob, cat = await world.users("Ann", "Bob", "Cat")
    rooms, blocks, messages = world.services.rooms, world.services.blocks, world.services.messages
    direct = (await rooms.direct(ann.id, bob.id))["id"]
    await messages.send(bob.id, direct, "hi")
    world.recorder.take()
    await blocks.block(ann.id, bob.id)
    assert world.recorder.take() == []  # nobody is told
    assert [u["id"] for u in await blocks.blocked(ann.id)] == [bob.id]
    for sender in (ann, bob):
        with pytest.raises(Forbidden):
            await messages.send(sender.id, direct, "still there?")
    for one, other in ((ann, bob), (bob, ann)):
        with pytest.raises(Forbidden):
            await rooms.direct(one.id, other.id)
    # History still reads; other people are not concerned.
    assert await _history(world, bob.id, direct)
    await rooms.direct(cat.id, bob.id)
    with pytest.raises(ValidationFailed):
        await blocks.block(ann.id, ann.id)
    await blocks.unblock(ann.id, bob.id)
    assert await blocks.blocked(ann.id) == []
    assert (await messages.send(bob.id, direct, "friends again"))[1] is True


async def test_allow_direct_from_shared_needs_a_room_in_common(world: World):
    ann, bob = await world.users("Ann", "Bob")
    me = Principal(user=ann, session_id="s", expires_at=0)
    view = await world.services.users.update_me(me, {"allowDirectFrom": "shared"})
    assert view["allowDirectFrom"] == "shared"
    rooms = world.services.rooms
    with pytest.raises(Forbidden):
        await rooms.direct(bob.id, ann.id)
    # Ann may still open one with Bob, and then it exists: Bob may use it.
    direct = (await rooms.direct(ann.id, bob.id))["id"]
    assert (await rooms.direct(bob.id, ann.id))["id"] == direct
    cat = await world.user("Cat")
    room_id = await world.room(ann, cat)
    assert (await rooms.direct(cat.id, ann.id))["type"] == "direct"
    await rooms.leave(cat.id, room_id)
    dan = await world.user("Dan")
    await world.room(dan, cat)  # Cat and Dan share a room, not Ann
    with pytest.raises(Forbidden):
        await rooms.direct(dan.id, ann.id)

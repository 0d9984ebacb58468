"""Hostile push endpoints against the real app: endpoints that never answer hold up no one
else's pushes (at most 2 in flight to one user's browsers, 8 to one push service), and an answer
whose body trickles is taken at its status, its body never read."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from chat.api.keys import SERVICES
from chat.services.notifications.push import PER_ORIGIN, PER_USER
from config.settings import Settings
from tests.helpers import User, eventually
from tests.push_standin import Browser
from tests.push_tarpit import Tarpit
from tests.realtime import Chat

WITHIN = 60  # a bound for a stuck test, not an expectation


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The loopback stand-ins may be called (PUSH_ALLOW_LOOPBACK=true)."""
    return dataclasses.replace(settings, push_allow_loopback=True)


async def ok(chat: Chat, method: str, path: str, user: User, **kw: Any) -> Any:
    status, body = await chat.api(method, path, user, **kw)
    assert status in (200, 201, 204), (method, path, status, body)
    return body


async def subscribe(chat: Chat, user: User, endpoint: str) -> Browser:
    browser = Browser(endpoint)
    await ok(chat, "POST", "/api/push/subscriptions", user, json=browser.subscription)
    return browser


async def test_endpoints_that_never_answer_hold_up_no_one_elses_pushes(chat, push):
    tarpit = Tarpit()
    await tarpit.start()
    try:
        ann, bob = await chat.user("Ann"), await chat.user("Bob")
        room = await chat.room(ann, name="Lobby")
        hostile = [await chat.user(f"Mal{n}") for n in range(5)]
        for n, mal in enumerate(hostile):
            await chat.join(mal, room)
            path = f"/api/rooms/{room['id']}/notifications"
            await ok(chat, "PATCH", path, mal, json={"level": "all"})
            for k in range(10 if n == 0 else 2):  # Mal0 keeps the most a user may: 10
                await subscribe(chat, mal, tarpit.endpoint(f"{mal.id}-{k}"))
        phone = await subscribe(chat, bob, push.endpoint("bob"))
        direct = (await ok(chat, "POST", "/api/rooms/direct", ann, json={"userId": bob.id}))["room"]
        await ok(chat, "POST", f"/api/rooms/{room['id']}/messages", ann, json={"text": "all"})

        async def hanging() -> int:
            return tarpit.open

        # As many hang as the old design had workers (4), each for the whole 10 s timeout.
        assert await eventually(hanging, lambda n: n >= 4, within=WITHIN, every=0.02) >= 4
        path = f"/api/rooms/{direct['id']}/messages"
        sent = (await ok(chat, "POST", path, ann, json={"text": "for Bob"}))["message"]

        async def bobs() -> list[Any]:
            return push.to("bob")

        found = await eventually(bobs, lambda p: len(p) == 1, within=WITHIN, every=0.02)
        assert tarpit.closed == 0  # Bob's push came while every hostile request still hung
        assert [phone.decrypt(p.body)["messageId"] for p in found] == [sent["id"]]
        assert await eventually(hanging, lambda n: n >= PER_ORIGIN, within=WITHIN) == PER_ORIGIN
        assert tarpit.peak == PER_ORIGIN and tarpit.closed == 0
        assert max(tarpit.peak_of.values()) == PER_USER == tarpit.peak_of[hostile[0].id]
    finally:
        await tarpit.close()


async def test_an_answer_is_taken_at_its_status_and_its_body_never_read(chat):
    trickler = Tarpit(trickle=True)  # 201 at once, then a byte of body every half second
    await trickler.start()
    try:
        ann, bob = await chat.user("Ann"), await chat.user("Bob")
        await subscribe(chat, bob, trickler.endpoint("bob"))
        direct = (await ok(chat, "POST", "/api/rooms/direct", ann, json={"userId": bob.id}))["room"]
        await ok(chat, "POST", f"/api/rooms/{direct['id']}/messages", ann, json={"text": "hi"})
        notifications = chat.server.app[SERVICES].notifications

        async def settled() -> bool:
            return notifications.idle and trickler.closed == 1

        assert await eventually(settled, within=WITHIN, every=0.05)
        assert trickler.trickled <= 2  # hung up at once: not 20 bytes over a 10 s timeout
        store = notifications.store
        assert [s.endpoint for s in await store.push_subscriptions.of_user(bob.id)] == [
            trickler.endpoint("bob")
        ]  # delivered (201): kept
    finally:
        await trickler.close()

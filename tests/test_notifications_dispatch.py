"""Deciding who is notified, through the real app, its database and the loopback push stand-in:
many rooms a second are all notified (the messages waiting are decided together, not one room
per job), a quiet room's plain messages take no place in the queue, a level chosen applies at
once, and disabled or deleted accounts hear of nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, TypeVar

import pytest
from prometheus_client import REGISTRY

from chat.api.keys import SERVICES
from chat.app import create_app
from chat.services.notifications.service import NotificationService
from config.settings import Settings
from tests.helpers import PASSWORD, User, eventually
from tests.push_standin import Browser, PushService, WebhookReceiver
from tests.realtime import Chat

WITHIN = 60  # a bound for a stuck test, not an expectation
SECRET = "webhook-secret-" + "w" * 20
T = TypeVar("T")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The loopback push stand-in may be called (PUSH_ALLOW_LOOPBACK=true)."""
    return dataclasses.replace(settings, push_allow_loopback=True)


@pytest.fixture
async def serve(aiohttp_server, aiohttp_client, settings) -> AsyncIterator[Callable[..., Any]]:
    """The real app with some settings changed, served on loopback."""
    served: list[Chat] = []

    async def make(**changes: Any) -> Chat:
        server = await aiohttp_server(create_app(dataclasses.replace(settings, **changes)))
        served.append(Chat(server, await aiohttp_client(server)))
        return served[-1]

    yield make
    for chat in served:
        await chat.close()


def service_of(chat: Chat) -> NotificationService:
    return chat.server.app[SERVICES].notifications


async def settled(chat: Chat) -> None:
    async def idle() -> bool:
        return service_of(chat).idle

    assert await eventually(idle, within=WITHIN, every=0.05)


async def together(make: Iterable[Callable[[], Awaitable[T]]], at_once: int = 16) -> list[T]:
    """Run the calls a few at a time (the server takes them as fast as it can)."""
    calls, done = list(make), []
    for start in range(0, len(calls), at_once):
        done += await asyncio.gather(*(call() for call in calls[start : start + at_once]))
    return done


async def ok(chat: Chat, method: str, path: str, user: User, **kw: Any) -> Any:
    status, body = await chat.api(method, path, user, **kw)
    assert status in (200, 201, 204), (method, path, status, body)
    return body


async def subscribe(chat: Chat, user: User, push: PushService, name: str) -> Browser:
    browser = Browser(push.endpoint(name))
    await ok(chat, "POST", "/api/push/subscriptions", user, json=browser.subscription)
    return browser


def dropped() -> float:
    return REGISTRY.get_sample_value("chat_notifications_dropped_total") or 0.0


async def test_many_rooms_a_second_are_all_notified_and_quiet_rooms_queue_nothing(chat, push):
    ann = await chat.user("Ann")
    peers = await together(lambda n=n: chat.user(f"Peer{n}") for n in range(80))
    await together(lambda p=p: subscribe(chat, p, push, p.id) for p in peers)
    directs = await together(
        lambda p=p: ok(chat, "POST", "/api/rooms/direct", ann, json={"userId": p.id}) for p in peers
    )
    quiet = await together(lambda n=n: chat.room(ann, name=f"Quiet {n}") for n in range(40))
    service, before = service_of(chat), dropped()
    # Production keeps 100 dispatch jobs of up to 100 messages; here 3 jobs must hold 120 rooms'
    # messages sent at once: one job per room (the old design, paced at 20 rooms a second) would
    # drop most of them, as 10,000 jobs did under 100 busy direct rooms.
    service.dispatches.limit = 3
    rooms = [d["room"]["id"] for d in directs] + [q["id"] for q in quiet]
    began = time.monotonic()
    await together(
        lambda r=r: ok(chat, "POST", f"/api/rooms/{r}/messages", ann, json={"text": "hi"})
        for r in rooms
    )
    assert len(rooms) / (time.monotonic() - began) > 20  # more rooms a second than the old pace

    async def reached() -> int:
        return len({p.name for p in push.pushes})

    assert await eventually(reached, lambda n: n == len(peers), within=WITHIN) == len(peers)
    await settled(chat)
    assert dropped() == before and push.refused == []
    assert sorted(p.name for p in push.pushes) == sorted(p.id for p in peers)  # one each
    # Nobody in the group rooms chose `all`: their plain messages are now known to notify
    # nobody, and take no place in the queue (were one queued, a limit of 0 would drop it).
    assert all(service.recipients.quiet(q["id"]) for q in quiet)
    service.dispatches.limit = 0
    for q in quiet:
        await ok(chat, "POST", f"/api/rooms/{q['id']}/messages", ann, json={"text": "anyone?"})
    assert dropped() == before


async def test_a_level_chosen_applies_at_once_to_a_room_known_as_quiet(chat, push):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann, name="Design")
    await chat.join(bob, room)
    browser = await subscribe(chat, bob, push, "bob")
    path = f"/api/rooms/{room['id']}/messages"
    await ok(chat, "POST", path, ann, json={"text": "nobody hears this"})
    await settled(chat)
    assert service_of(chat).recipients.quiet(room["id"]) and push.pushes == []
    await ok(chat, "PATCH", f"/api/rooms/{room['id']}/notifications", bob, json={"level": "all"})
    sent = (await ok(chat, "POST", path, ann, json={"text": "Bob hears this"}))["message"]
    found = await eventually(lambda: _pushes(push), lambda p: len(p) == 1, within=WITHIN)
    assert [browser.decrypt(p.body)["messageId"] for p in found] == [sent["id"]]


async def _pushes(push: PushService) -> list[Any]:
    return push.pushes


async def test_disabled_and_deleted_accounts_are_notified_of_nothing(serve, push):
    hook = WebhookReceiver()
    await hook.start()
    try:
        chat = await serve(notify_webhook_url=hook.url, notify_webhook_secret=SECRET)
        ann, bob, cat, dan = [await chat.user(n) for n in ("Ann", "Bob", "Cat", "Dan")]
        room = await chat.room(ann, name="Ops")
        for user in (bob, cat):
            await chat.join(user, room)
            await ok(
                chat, "PATCH", f"/api/rooms/{room['id']}/notifications", user, json={"level": "all"}
            )
            await subscribe(chat, user, push, user.name)
        direct = (await ok(chat, "POST", "/api/rooms/direct", ann, json={"userId": dan.id}))["room"]
        store = service_of(chat).store
        # Cat is disabled by a server admin (written as the admin desk writes it, sessions and
        # subscriptions left as they were); Dan deletes his account (his direct room stays).
        await store.users.set_disabled(cat.id, int(time.time() * 1000))
        await ok(chat, "DELETE", "/api/users/me", dan, json={"password": PASSWORD})
        said = await ok(
            chat, "POST", f"/api/rooms/{room['id']}/messages", ann, json={"text": "all"}
        )
        await ok(chat, "POST", f"/api/rooms/{direct['id']}/messages", ann, json={"text": "Dan?"})
        await eventually(lambda: _pushes(push), lambda p: len(p) >= 1, within=WITHIN)
        await settled(chat)
        assert [p.name for p in push.pushes] == ["Bob"]
        calls = [json.loads(c.body) for c in hook.calls]
        assert [(c["message"]["id"], c["userIds"]) for c in calls] == [
            (said["message"]["id"], [bob.id])
        ]
    finally:
        await hook.close()

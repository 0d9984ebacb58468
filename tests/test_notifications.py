"""Notifications for people who are not connected, through the real app: Web Push to a loopback
push service that checks VAPID as a real one does, payloads decrypted with the subscription's
own key, and a signed webhook that is retried after 503s."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from chat.api.keys import SERVICES
from chat.app import create_app
from config.settings import Settings
from tests.helpers import User, eventually
from tests.push_standin import Browser, PushService, WebhookReceiver
from tests.realtime import Chat

WITHIN = 60  # a bound for a stuck test, not an expectation
SECRET = "webhook-secret-" + "w" * 20

Serve = Callable[..., Awaitable[Chat]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The loopback push stand-in may be called (PUSH_ALLOW_LOOPBACK=true)."""
    return dataclasses.replace(settings, push_allow_loopback=True)


@pytest.fixture
async def serve(aiohttp_server, aiohttp_client, settings) -> AsyncIterator[Serve]:
    """The real app with some settings changed, served on loopback."""
    served: list[Chat] = []

    async def make(**changes: Any) -> Chat:
        server = await aiohttp_server(create_app(dataclasses.replace(settings, **changes)))
        served.append(Chat(server, await aiohttp_client(server)))
        return served[-1]

    yield make
    for chat in served:
        await chat.close()


async def settled(chat: Chat) -> None:
    """Wait until the notification queue has nothing queued, waiting or running."""
    notifications = chat.server.app[SERVICES].notifications

    async def idle() -> bool:
        return notifications.idle

    assert await eventually(idle, within=WITHIN, every=0.05)


async def subscribe(chat: Chat, user: User, push: PushService, name: str) -> Browser:
    browser = Browser(push.endpoint(name))
    status, body = await chat.api(
        "POST", "/api/push/subscriptions", user, json=browser.subscription
    )
    assert status == 201, body
    return browser


async def direct(chat: Chat, ann: User, bob: User) -> dict[str, Any]:
    status, body = await chat.api("POST", "/api/rooms/direct", ann, json={"userId": bob.id})
    assert status in (200, 201), body
    return body["room"]


async def send(chat: Chat, user: User, room_id: str, text: str, **extra: Any) -> dict[str, Any]:
    """Over REST: the sender has no socket, so only their being the sender keeps them out."""
    status, body = await chat.api(
        "POST", f"/api/rooms/{room_id}/messages", user, json={"text": text, **extra}
    )
    assert status == 201, body
    return body["message"]


async def pushes(push: PushService, name: str, count: int) -> list[Any]:
    found = await eventually(lambda: _got(push, name), lambda p: len(p) >= count, within=WITHIN)
    assert len(found) >= count, (push.refused, found)
    return found


async def _got(push: PushService, name: str) -> list[Any]:
    return push.to(name)


async def test_a_direct_message_is_pushed_encrypted_to_every_browser_of_the_offline_peer(
    chat, push
):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    laptop = await subscribe(chat, bob, push, "bob-laptop")
    phone = await subscribe(chat, bob, push, "bob-phone")
    await subscribe(chat, ann, push, "ann")  # the sender: never notified
    _, key = await chat.api("GET", "/api/push/vapid-public-key", ann)
    room = await direct(chat, ann, bob)
    sent = await send(chat, ann, room["id"], "hello\nBob")
    for browser, name in ((laptop, "bob-laptop"), (phone, "bob-phone")):
        [received] = await pushes(push, name, 1)
        assert browser.decrypt(received.body) == {
            "type": "message",
            "roomId": room["id"],
            "messageId": sent["id"],
            "seq": sent["seq"],
            "title": "Ann",  # a direct room: the sender's name
            "body": "Ann: hello Bob",
        }
        assert f"k={key['publicKey']}" in received.headers["Authorization"].replace(" ", "")
        assert received.claims["aud"] == push.origin
        assert received.headers["Urgency"] == "high"
    await settled(chat)
    assert push.to("ann") == [] and push.refused == []
    long = await send(chat, ann, room["id"], "x" * 1000)
    [_, received] = await pushes(push, "bob-phone", 2)
    payload = phone.decrypt(received.body)
    assert payload["messageId"] == long["id"]
    assert len(payload["body"]) == 200 and payload["body"].endswith("…")


async def test_a_subscription_the_push_service_calls_gone_is_deleted(chat, push):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    for name in ("bob-410", "bob-404", "bob-ok"):
        await subscribe(chat, bob, push, name)
    push.gone.update({"bob-410": 410, "bob-404": 404})
    room = await direct(chat, ann, bob)
    await send(chat, ann, room["id"], "one")
    await pushes(push, "bob-ok", 1)
    await settled(chat)
    store = chat.server.app[SERVICES].notifications.store
    assert [s.endpoint for s in await store.push_subscriptions.of_user(bob.id)] == [
        push.endpoint("bob-ok")
    ]
    await send(chat, ann, room["id"], "two")
    await pushes(push, "bob-ok", 2)
    assert push.refused == []


async def test_a_connected_user_gets_no_push_and_one_who_just_left_does(serve, push):
    # A long grace period: Bob still counts as online after leaving, yet has no socket to hear on.
    chat = await serve(presence_grace_seconds=120)
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    bob_phone = await subscribe(chat, bob, push, "bob")
    room = await direct(chat, ann, bob)
    b = await chat.socket(bob)
    first = await send(chat, ann, room["id"], "while you are here")
    await b.wait_for("new-message", lambda m: m["id"] == first["id"])
    await settled(chat)
    assert push.to("bob") == []
    await b.close()
    ledger = chat.server.app[SERVICES].notifications.recipients.ledger
    assert (
        await eventually(lambda: ledger.connected([bob.id]), lambda c: not c, within=WITHIN)
        == set()
    )
    assert await ledger.online([bob.id]) == {bob.id}  # within the grace period
    second = await send(chat, ann, room["id"], "now you are gone")
    [received] = await pushes(push, "bob", 1)
    assert bob_phone.decrypt(received.body)["messageId"] == second["id"]


async def test_levels_and_mentions_decide_who_hears_of_a_group_message(chat, push):
    ann, bob, cat = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Cat")
    room = await chat.room(ann, "public", name="Design")
    browsers = {}
    for user in (bob, cat):
        await chat.join(user, room)
        browsers[user.name] = await subscribe(chat, user, push, user.name)
    await send(chat, ann, room["id"], "plain message")  # the default level: mentions only
    await settled(chat)
    assert push.pushes == []
    mention = await send(chat, ann, room["id"], "@Bob look", mentions=[bob.id])
    [received] = await pushes(push, "Bob", 1)
    payload = browsers["Bob"].decrypt(received.body)
    assert (payload["title"], payload["body"]) == ("Design", "Ann: @Bob look")
    assert payload["messageId"] == mention["id"]
    assert received.headers["Urgency"] == "high"
    await settled(chat)
    assert push.to("Cat") == []
    # Cat asks for everything, Bob for nothing (a mention included).
    for user, level in ((cat, "all"), (bob, "none")):
        status, _ = await chat.api(
            "PATCH", f"/api/rooms/{room['id']}/notifications", user, json={"level": level}
        )
        assert status == 200
    await send(chat, ann, room["id"], "@Bob again", mentions=[bob.id])
    [to_cat] = await pushes(push, "Cat", 1)
    assert to_cat.headers["Urgency"] == "normal"  # not mentioned: an `all` message
    await settled(chat)
    assert len(push.to("Bob")) == 1


async def test_the_webhook_is_signed_and_retried_after_503s(serve, push):
    hook = WebhookReceiver([503, 503])
    await hook.start()
    try:
        chat = await serve(notify_webhook_url=hook.url, notify_webhook_secret=SECRET)
        ann, bob = await chat.user("Ann"), await chat.user("Bob")
        room = await direct(chat, ann, bob)
        started = time.time()
        sent = await send(chat, ann, room["id"], "to the phone app")
        await eventually(lambda: _calls(hook), lambda n: n >= 3, within=WITHIN)
        await settled(chat)
        assert len(hook.calls) == 3  # 503, 503, then 200: no fourth
        for call in hook.calls:
            digest = hmac.new(SECRET.encode(), call.body, hashlib.sha256).hexdigest()
            assert call.headers["X-Chat-Signature"] == f"sha256={digest}"
            assert started - 5 <= int(call.headers["X-Chat-Timestamp"]) <= time.time() + 5
            assert call.body == hook.calls[0].body
        body = json.loads(hook.calls[0].body)
        assert body["type"] == "message" and body["userIds"] == [bob.id]
        assert body["message"]["id"] == sent["id"] and body["message"]["text"] == sent["text"]
        assert body["message"]["sender"]["id"] == ann.id
    finally:
        await hook.close()


async def _calls(hook: WebhookReceiver) -> int:
    return len(hook.calls)

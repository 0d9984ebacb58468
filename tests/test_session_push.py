"""A browser's Web Push subscription ends with the session that made it: after a password reset,
a disable, a password change or a logout, that browser hears nothing more of the account's direct
messages (an account thief's among them). Through the real app: the loopback push service stands
in for the browsers' (tests/push_standin.py), the reset link comes through a real SMTP server, and
what the database keeps is read back."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from chat.api.keys import SERVICES
from chat.app import create_app
from tests.helpers import PASSWORD, User, eventually, register, verify_email
from tests.push_standin import Browser, PushService
from tests.realtime import Chat
from tests.smtp_server import SmtpServer

ADMIN = "root@example.com"
WITHIN = 60  # a bound for a stuck test, not an expectation


@pytest.fixture
async def chat(
    aiohttp_server: Callable[..., Any],
    aiohttp_client: Callable[..., Any],
    settings: Any,
    smtp: SmtpServer,
) -> AsyncIterator[Chat]:
    changed = dataclasses.replace(
        settings, smtp_url=smtp.url, admin_emails=(ADMIN,), push_allow_loopback=True
    )
    server = await aiohttp_server(create_app(changed))
    harness = Chat(server, await aiohttp_client(server))
    yield harness
    await harness.close()


async def signed_in_again(chat: Chat, user: User) -> User:
    """The same account on another device: a session of its own."""
    body = {"email": user.email, "password": PASSWORD}
    resp = await chat.rest.post("/api/auth/login", json=body)
    assert resp.status == 200
    chat.rest.session.cookie_jar.clear()
    return dataclasses.replace(user, token=(await resp.json())["token"])


async def subscribe(chat: Chat, user: User, push: PushService, name: str) -> Browser:
    browser = Browser(push.endpoint(name))
    status, body = await chat.api(
        "POST", "/api/push/subscriptions", user, json=browser.subscription
    )
    assert status == 201, body
    return browser


async def dm(chat: Chat, sender: User, room_id: str, text: str) -> dict[str, Any]:
    status, body = await chat.api(
        "POST", f"/api/rooms/{room_id}/messages", sender, json={"text": text}
    )
    assert status == 201, body
    return body["message"]


async def direct(chat: Chat, ann: User, bob: User) -> str:
    status, body = await chat.api("POST", "/api/rooms/direct", ann, json={"userId": bob.id})
    assert status in (200, 201), body
    return str(body["room"]["id"])


async def pushed(push: PushService, name: str, count: int) -> list[Any]:
    async def got() -> list[Any]:
        return push.to(name)

    found = await eventually(got, lambda p: len(p) >= count, within=WITHIN)
    assert len(found) >= count, (push.refused, found)
    return found


async def settled(chat: Chat) -> None:
    """Wait until the notification queue has nothing queued, waiting or running."""
    notifications = chat.server.app[SERVICES].notifications

    async def idle() -> bool:
        return notifications.idle

    assert await eventually(idle, within=WITHIN, every=0.05)


async def endpoints(chat: Chat, user: User) -> set[str]:
    store = chat.server.app[SERVICES].notifications.store
    return {s.endpoint for s in await store.push_subscriptions.of_user(user.id)}


async def both_pushed(chat: Chat, push: PushService, bob: User, room: str, sent: int) -> None:
    """A DM from Bob reaches both of Ann's browsers (each has had `sent` pushes before)."""
    msg = await dm(chat, bob, room, f"message {sent + 1}")
    for name in ("ann-laptop", "thief"):
        assert (await pushed(push, name, sent + 1))[-1].body != b""
    assert msg["seq"] == sent + 1


async def test_a_password_reset_ends_the_push_of_every_browser(chat, smtp, push):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    thief = await signed_in_again(chat, ann)  # the stolen password, on the thief's machine
    laptop = await subscribe(chat, ann, push, "ann-laptop")
    stolen = await subscribe(chat, thief, push, "thief")
    room = await direct(chat, bob, ann)
    await both_pushed(chat, push, bob, room, 0)
    assert stolen.decrypt(push.to("thief")[0].body)["body"] == "Bob: message 1"

    resp = await chat.rest.post("/api/auth/password/forgot", json={"email": ann.email})
    assert resp.status == 202
    token = (await smtp.wait_for(ann.email)).link_token("reset")
    body = {"token": token, "newPassword": "a brand new password"}
    assert (await chat.rest.post("/api/auth/password/reset", json=body)).status == 200
    chat.rest.session.cookie_jar.clear()

    await dm(chat, bob, room, "after the reset")
    await settled(chat)
    assert len(push.to("thief")) == 1 and len(push.to("ann-laptop")) == 1
    assert laptop.decrypt(push.to("ann-laptop")[0].body)["body"] == "Bob: message 1"
    assert await endpoints(chat, ann) == set()


async def test_disabling_drops_every_subscription_older_ones_included(chat, smtp, push, settings):
    root = await register(chat.rest, "Root", email=ADMIN)
    chat.rest.session.cookie_jar.clear()
    await verify_email(chat.rest, root, smtp)  # a server admin's address is verified
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    await subscribe(chat, ann, push, "ann-phone")
    await subscribe(chat, ann, push, "ann-laptop")
    await subscribe(chat, bob, push, "bob")
    await unbind(settings, push.endpoint("ann-laptop"))
    room = await direct(chat, bob, ann)

    status, _ = await chat.api("POST", f"/api/admin/users/{ann.id}/disable", root)
    assert status == 204
    assert await endpoints(chat, ann) == set()
    assert await endpoints(chat, bob) == {push.endpoint("bob")}  # nobody else's
    await dm(chat, bob, room, "to a disabled account")
    await settled(chat)
    assert push.to("ann-phone") == [] and push.to("ann-laptop") == []


async def unbind(settings: Any, endpoint: str) -> None:
    """Make the subscription one saved before subscriptions named their session."""
    mongo: AsyncMongoClient = AsyncMongoClient(settings.mongodb_uri)
    try:
        docs = mongo[settings.mongodb_db]["push_subscriptions"]
        await docs.update_one({"endpoint": endpoint}, {"$unset": {"sessionId": ""}})
        doc = await docs.find_one({"endpoint": endpoint})
    finally:
        await mongo.close()
    assert doc is not None and "sessionId" not in doc


async def test_a_password_change_keeps_this_browser_and_logout_drops_it(chat, push):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    thief = await signed_in_again(chat, ann)
    await subscribe(chat, ann, push, "ann-laptop")
    await subscribe(chat, thief, push, "thief")
    room = await direct(chat, bob, ann)
    await both_pushed(chat, push, bob, room, 0)

    body = {"currentPassword": PASSWORD, "newPassword": "a brand new password"}
    status, answer = await chat.api("PUT", "/api/auth/password", ann, json=body)
    assert status == 200, answer
    await dm(chat, bob, room, "after the change")
    await pushed(push, "ann-laptop", 2)
    await settled(chat)
    assert len(push.to("thief")) == 1
    assert await endpoints(chat, ann) == {push.endpoint("ann-laptop")}

    status, _ = await chat.api("POST", "/api/auth/logout", ann)
    assert status == 200
    chat.rest.session.cookie_jar.clear()
    await dm(chat, bob, room, "after the logout")
    await settled(chat)
    assert len(push.to("ann-laptop")) == 2
    assert await endpoints(chat, ann) == set()


async def test_a_session_that_expires_takes_its_subscription_with_it(chat, push):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    other = await signed_in_again(chat, ann)  # a second machine, whose session will lapse
    await subscribe(chat, ann, push, "ann-laptop")
    await subscribe(chat, other, push, "old-machine")
    room = await direct(chat, ann, bob)
    await dm(chat, bob, room, "one")
    await pushed(push, "old-machine", 1)
    # The old machine's session runs out: the TTL index removes it, with no logout.
    store = chat.server.app[SERVICES].notifications.store
    (old,) = [s for s in await store.push_subscriptions.of_user(ann.id) if s.session_id is not None
              and s.endpoint == push.endpoint("old-machine")]  # fmt: skip
    await store.sessions.c.delete_one({"_id": old.session_id})
    await dm(chat, bob, room, "two")
    assert len(await pushed(push, "ann-laptop", 2)) == 2
    await settled(chat)
    assert len(push.to("old-machine")) == 1  # nothing after its session ended
    assert await endpoints(chat, ann) == {push.endpoint("ann-laptop")}

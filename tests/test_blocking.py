"""Blocking and allowDirectFrom through both doors: silent and mutual for direct rooms (no new
one, no message, no reaction, no upload in the one they have, from either side), a blocked user's
mentions notify nothing, and `allowDirectFrom: shared` keeps strangers from opening one."""

from __future__ import annotations

import dataclasses
import json

from chat.app import create_app
from tests.helpers import User, eventually
from tests.media_files import form, image
from tests.push_standin import WebhookReceiver
from tests.realtime import Chat


async def _direct(chat: Chat, one, other) -> tuple[int, dict]:
    return await chat.api("POST", "/api/rooms/direct", one, json={"userId": other.id})


async def test_a_block_closes_the_direct_room_both_ways_and_says_nothing(chat: Chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    status, body = await _direct(chat, bob, ann)
    room = body["room"]
    a, b = await chat.socket(ann), await chat.socket(bob)
    hello = await b.call("send-message", {"roomId": room["id"], "text": "hello"})
    assert hello["ok"]
    assert (await chat.api("POST", f"/api/users/{bob.id}/block", ann))[0] == 204
    assert (await chat.api("POST", f"/api/users/{bob.id}/block", ann))[0] == 204  # again
    status, body = await chat.api("GET", "/api/users/blocked", ann)
    assert [u["id"] for u in body["users"]] == [bob.id]
    for peer, user in ((a, ann), (b, bob)):
        ack = await peer.call("send-message", {"roomId": room["id"], "text": "still there?"})
        assert ack["error"]["code"] == "FORBIDDEN"
        react = {"messageId": hello["message"]["id"], "emoji": "👋"}
        assert (await peer.call("react-message", react))["error"]["code"] == "FORBIDDEN"
        status, _ = await chat.api(
            "POST", f"/api/rooms/{room['id']}/messages", user, json={"text": "REST?"}
        )
        assert status == 403
        resp = await chat.rest.post(
            "/api/uploads", data=form(image("PNG"), "p.png", roomId=room["id"]), headers=user.auth
        )
        assert resp.status == 403
        assert peer.sio.connected
    for one, other in ((ann, bob), (bob, ann)):
        status, body = await _direct(chat, one, other)
        assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    # Silent: Bob was told nothing, and the same words answer both sides.
    await b.round_trip()
    assert [name for name, _ in b.events if name not in ("online-users", "user-online")] == []
    # History still reads for both.
    assert (await chat.api("GET", f"/api/rooms/{room['id']}/messages", bob))[0] == 200
    assert (await chat.api("DELETE", f"/api/users/{bob.id}/block", ann))[0] == 204
    assert (await chat.api("GET", "/api/users/blocked", ann))[1]["users"] == []
    assert (await b.call("send-message", {"roomId": room["id"], "text": "friends?"}))["ok"]
    assert (await _direct(chat, ann, bob))[0] == 200


async def test_block_refusals(chat: Chat):
    ann = await chat.user("Ann")
    assert (await chat.api("POST", f"/api/users/{ann.id}/block", ann))[0] == 400
    assert (await chat.api("POST", f"/api/users/{'0' * 24}/block", ann))[0] == 404
    assert (await chat.api("POST", "/api/users/not-an-id/block", ann))[0] == 404
    assert (await chat.rest.post(f"/api/users/{ann.id}/block")).status == 401


async def test_allow_direct_from_shared(chat: Chat):
    ann, bob, cat = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Cat")
    status, body = await chat.api("PATCH", "/api/users/me", ann, json={"allowDirectFrom": "shared"})
    assert (status, body["user"]["allowDirectFrom"]) == (200, "shared")
    status, body = await chat.api("GET", "/api/users/me", ann)
    assert body["user"]["allowDirectFrom"] == "shared"
    status, body = await _direct(chat, bob, ann)
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    room = await chat.room(ann, "private")
    await chat.join(cat, room)
    assert (await _direct(chat, cat, ann))[0] == 200  # they share a room
    assert (await _direct(chat, ann, bob))[0] == 200  # Ann may open one herself
    assert (await _direct(chat, bob, ann))[0] == 200  # ...and then it is theirs
    await chat.api("PATCH", "/api/users/me", ann, json={"allowDirectFrom": "everyone"})
    dan = await chat.user("Dan")
    assert (await _direct(chat, dan, ann))[0] == 200


async def test_a_blocked_users_mentions_notify_nothing(aiohttp_server, aiohttp_client, settings):
    """Through the notification webhook: Bob's mention of Ann (offline) reaches it until she
    blocks him; Cat's still does."""
    hook = WebhookReceiver()
    await hook.start()
    changed = dataclasses.replace(
        settings, notify_webhook_url=hook.url, notify_webhook_secret="s" * 32
    )
    server = await aiohttp_server(create_app(changed))
    chat = Chat(server, await aiohttp_client(server))
    try:
        ann, bob, cat = await chat.user("Ann"), await chat.user("Bob"), await chat.user("Cat")
        room = await chat.room(bob)
        for user in (ann, cat):
            await chat.join(user, room)

        async def mention(sender: User) -> str:
            status, body = await chat.api(
                "POST",
                f"/api/rooms/{room['id']}/messages",
                sender,
                json={"text": "hey Ann", "mentions": [ann.id]},
            )
            assert status == 201
            return body["message"]["id"]

        async def notified(message_id: str) -> list[str]:
            async def calls() -> list[dict]:
                return [json.loads(c.body) for c in hook.calls]

            found = await eventually(
                calls, lambda got: any(c["message"]["id"] == message_id for c in got)
            )
            return next(c["userIds"] for c in found if c["message"]["id"] == message_id)

        assert await notified(await mention(bob)) == [ann.id]
        assert (await chat.api("POST", f"/api/users/{bob.id}/block", ann))[0] == 204
        blocked = await mention(bob)
        # Progress, not a pause: Cat's later mentions are notified, queued behind Bob's.
        for _ in range(2):
            assert await notified(await mention(cat)) == [ann.id]
        assert [c for c in hook.calls if json.loads(c.body)["message"]["id"] == blocked] == []
    finally:
        await chat.close()
        await hook.close()

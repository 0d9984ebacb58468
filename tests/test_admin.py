"""Reports and the server admin (ADMIN_EMAILS), through both doors, and per-user REST limits:
one report per reporter and message, only by someone who can read it; the admin lists them and
resolves one by deleting the message (a tombstone the room hears of); disabling an account ends
its sockets at once and refuses its login until enabled; everyone else is FORBIDDEN; two users
behind one address have a budget each."""

from __future__ import annotations

import dataclasses
import time

import pytest

from tests.helpers import PASSWORD, register, verify_email
from tests.realtime import Chat, note_disconnect

ADMIN = "root@example.com"


@pytest.fixture
def settings(settings, smtp):
    return dataclasses.replace(settings, admin_emails=(ADMIN,), smtp_url=smtp.url)


async def _admin(chat: Chat, smtp):
    user = await register(chat.rest, "Root", email=ADMIN)
    chat.rest.session.cookie_jar.clear()
    await verify_email(chat.rest, user, smtp)  # an admin's address is verified
    return user


async def test_reports_one_each_then_the_admin_deletes_the_message(chat: Chat, smtp):
    root, ann, bob = await _admin(chat, smtp), await chat.user("Ann"), await chat.user("Bob")
    out = await chat.user("Out")
    room = await chat.room(ann, "private")
    await chat.join(bob, room)
    a, b = await chat.socket(ann), await chat.socket(bob)
    sent = (await a.call("send-message", {"roomId": room["id"], "text": "abuse"}))["message"]
    path = f"/api/messages/{sent['id']}/report"
    status, body = await chat.api("POST", path, bob, json={"reason": "abusive"})
    assert status == 201, body
    report = body["report"]
    assert (report["status"], report["reason"], report["reporter"]["id"]) == (
        "open",
        "abusive",
        bob.id,
    )
    assert report["message"]["id"] == sent["id"]
    again = await chat.api("POST", path, bob, json={"reason": "really"})
    assert (again[0], again[1]["error"]["code"]) == (409, "CONFLICT")
    assert (await chat.api("POST", path, out, json={"reason": "x"}))[0] == 404  # cannot read it
    assert (await chat.api("POST", path, ann, json={"reason": "me"}))[0] == 400  # her own
    status, body = await chat.api("GET", "/api/admin/reports", root)
    assert [r["id"] for r in body["reports"]] == [report["id"]]
    for user in (ann, bob):  # nobody else
        assert (await chat.api("GET", "/api/admin/reports", user))[0] == 403
        resolve = f"/api/admin/reports/{report['id']}/resolve"
        assert (await chat.api("POST", resolve, user, json={"action": "dismiss"}))[0] == 403
    status, body = await chat.api(
        "POST",
        f"/api/admin/reports/{report['id']}/resolve",
        root,
        json={"action": "delete-message"},
    )
    assert status == 200, body
    assert (body["report"]["status"], body["report"]["action"]) == ("resolved", "delete-message")
    assert body["report"]["message"]["deletedAt"] is not None
    for peer in (a, b):  # the room hears of it as of any deletion
        deleted = await peer.wait_for("message-deleted")
        assert (deleted["messageId"], deleted["seq"]) == (sent["id"], 1)
    _, page = await chat.api("GET", f"/api/rooms/{room['id']}/messages", ann)
    assert (page["messages"][0]["text"], page["messages"][0]["deletedAt"] is not None) == (
        "",
        True,
    )
    assert (await chat.api("GET", "/api/admin/reports", root))[1]["reports"] == []
    status, body = await chat.api("GET", "/api/admin/reports?status=resolved", root)
    assert [r["id"] for r in body["reports"]] == [report["id"]]
    status, body = await chat.api(
        "POST", f"/api/admin/reports/{report['id']}/resolve", root, json={"action": "dismiss"}
    )
    assert (status, body["error"]["code"]) == (409, "CONFLICT")


async def test_a_report_can_be_dismissed_and_a_server_admin_deletes_anywhere(chat: Chat, smtp):
    root, ann, bob = await _admin(chat, smtp), await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)  # public: Bob reads it without joining
    a = await chat.socket(ann)
    sent = (await a.call("send-message", {"roomId": room["id"], "text": "meh"}))["message"]
    _, body = await chat.api(
        "POST", f"/api/messages/{sent['id']}/report", bob, json={"reason": "meh"}
    )
    resolve = f"/api/admin/reports/{body['report']['id']}/resolve"
    status, body = await chat.api("POST", resolve, root, json={"action": "dismiss"})
    assert (status, body["report"]["action"]) == (200, "dismiss")
    assert body["report"]["message"]["deletedAt"] is None
    # Not a member of the room, yet owners' equal there for deleting messages.
    assert (await chat.api("DELETE", f"/api/messages/{sent['id']}", bob))[0] == 403
    assert (await chat.api("DELETE", f"/api/messages/{sent['id']}", root))[0] == 204
    assert (await a.wait_for("message-deleted"))["messageId"] == sent["id"]


async def test_disabling_cuts_every_socket_at_once_and_refuses_login_until_enabled(
    chat: Chat, smtp
):
    root, bob, cat = await _admin(chat, smtp), await chat.user("Bob"), await chat.user("Cat")
    tabs = [await chat.socket(bob), await chat.socket(bob)]
    bystander = await chat.socket(cat)
    assert (await chat.api("POST", f"/api/admin/users/{bob.id}/disable", cat))[0] == 403
    for tab in tabs:
        note_disconnect(tab)
    started = time.monotonic()
    assert (await chat.api("POST", f"/api/admin/users/{bob.id}/disable", root))[0] == 204
    for tab in tabs:  # told why, then cut: the order and the outcome, not the time it took
        await tab.wait_for("disconnect")
        assert tab.events[-2:] == [
            ("session-expired", {"reason": "disabled"}),
            ("disconnect", None),
        ]
        assert not tab.sio.connected
    print(f"both tabs cut {time.monotonic() - started:.3f} s after the disable")  # a figure only
    assert bystander.sio.connected
    assert (await chat.api("GET", "/api/auth/me", bob))[0] == 401  # every token of his
    login = {"email": bob.email, "password": PASSWORD}
    resp = await chat.rest.post("/api/auth/login", json=login)
    assert (resp.status, (await resp.json())["error"]["code"]) == (403, "FORBIDDEN")
    resp = await chat.rest.post("/api/auth/login", json={**login, "password": "wrong password"})
    assert resp.status == 401  # the wrong password hears only that
    with pytest.raises(Exception):  # noqa: B017, PT011 - a refused handshake, whatever its type
        await chat.socket(bob)
    assert (await chat.api("POST", f"/api/admin/users/{bob.id}/enable", root))[0] == 204
    resp = await chat.rest.post("/api/auth/login", json=login)
    assert resp.status == 200
    chat.rest.session.cookie_jar.clear()
    # Refusals: admins are not disabled, unknown users are not found, bodies are checked.
    assert (await chat.api("POST", f"/api/admin/users/{root.id}/disable", root))[0] == 403
    assert (await chat.api("POST", f"/api/admin/users/{'0' * 24}/disable", root))[0] == 404
    status, body = await chat.api(
        "POST", f"/api/admin/users/{bob.id}/disable", root, json={"now": True}
    )
    assert (status, body["error"]["code"]) == (400, "VALIDATION_ERROR")


async def test_report_and_admin_bodies_are_checked(chat: Chat, smtp):
    root, ann, bob = await _admin(chat, smtp), await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)
    a = await chat.socket(ann)
    sent = (await a.call("send-message", {"roomId": room["id"], "text": "hi"}))["message"]
    path = f"/api/messages/{sent['id']}/report"
    for bad in (
        {},
        {"reason": ""},
        {"reason": "   "},
        {"reason": "x" * 501},
        {"reason": {"$ne": ""}},
        {"reason": 5},
        {"reason": "ok", "status": "resolved"},
    ):
        status, body = await chat.api("POST", path, bob, json=bad)
        assert (status, body["error"]["code"]) == (400, "VALIDATION_ERROR"), bad
    _, body = await chat.api("POST", path, bob, json={"reason": "ok"})
    resolve = f"/api/admin/reports/{body['report']['id']}/resolve"
    for bad in ({"action": "nuke"}, {"action": ["dismiss"]}, {"action": "dismiss", "x": 1}):
        status, answer = await chat.api("POST", resolve, root, json=bad)
        assert (status, answer["error"]["code"]) == (400, "VALIDATION_ERROR"), bad
    for query in ("?status=closed", "?limit=0", "?limit=101", "?status=open&status=resolved"):
        status, answer = await chat.api("GET", "/api/admin/reports" + query, root)
        assert (status, answer["error"]["code"]) == (400, "VALIDATION_ERROR"), query
    assert (await chat.api("POST", "/api/messages/not-an-id/report", bob, json={"reason": "x"}))[
        0
    ] == 404
    assert a.sio.connected


async def test_two_users_behind_one_address_have_a_budget_each(make_client):
    client = await make_client(rate_limit_api="5/minute")
    ann, bob = await register(client, "Ann"), await register(client, "Bob")
    client.session.cookie_jar.clear()
    ann_calls = [(await client.get("/api/users/me", headers=ann.auth)).status for _ in range(6)]
    assert ann_calls == [200] * 5 + [429]
    bob_calls = [(await client.get("/api/users/me", headers=bob.auth)).status for _ in range(5)]
    assert bob_calls == [200] * 5
    # Anonymous calls share the address's budget, and a forged token counts as anonymous.
    anonymous = [(await client.get("/api/users/me")).status for _ in range(5)]
    assert anonymous == [401] * 5
    forged = {"Authorization": "Bearer " + ann.token[:-4] + "AAAA"}
    assert (await client.get("/api/users/me", headers=forged)).status == 429
    assert (await client.get("/api/users/me", headers=bob.auth)).status == 429  # his 6th


async def test_an_unverified_admin_address_is_no_admin(chat: Chat, smtp):
    # Whoever registers an ADMIN_EMAILS address first proves nothing by it.
    squatter = await register(chat.rest, "Root", email=ADMIN)
    chat.rest.session.cookie_jar.clear()
    status, body = await chat.api("GET", "/api/users/me", squatter)
    assert (status, body["user"]["role"], body["user"]["emailVerified"]) == (200, "user", False)
    status, body = await chat.api("GET", "/api/admin/reports?status=open", squatter)
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    await verify_email(chat.rest, squatter, smtp)  # the owner of the address verifies it
    status, body = await chat.api("GET", "/api/users/me", squatter)
    assert body["user"]["role"] == "admin"
    assert (await chat.api("GET", "/api/admin/reports?status=open", squatter))[0] == 200

"""Resolving a report is one decision: two admins resolving it at once (dismiss against delete,
or both deleting) get one answer each, one resolution and one CONFLICT, and what happened to the
message matches the resolution that won. Deleting from the admin's desk spends none of the
admin's budget of edits (RATE_LIMIT_EDITS)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tests.helpers import register, verify_email
from tests.realtime import Chat, Peer, User

ADMIN = "root@example.com"


@pytest.fixture
def settings(settings, smtp):
    return dataclasses.replace(
        settings, admin_emails=(ADMIN,), rate_limit_edits="2/minute", smtp_url=smtp.url
    )


async def _admin(chat: Chat, smtp) -> User:
    user = await register(chat.rest, "Root", email=ADMIN)
    chat.rest.session.cookie_jar.clear()
    await verify_email(chat.rest, user, smtp)  # an admin's address is verified
    return user


async def _reported(chat: Chat, sender: Peer, room_id: str, reporter: User, text: str) -> tuple:
    sent = await sender.call("send-message", {"roomId": room_id, "text": text})
    path = f"/api/messages/{sent['message']['id']}/report"
    status, body = await chat.api("POST", path, reporter, json={"reason": "spam"})
    assert status == 201
    return sent["message"]["id"], body["report"]["id"]


async def test_two_resolutions_at_once_one_wins_and_the_message_matches_it(chat: Chat, smtp):
    root, ann, bob = await _admin(chat, smtp), await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)
    a = await chat.socket(ann)
    for round_ in range(4):
        message_id, report_id = await _reported(chat, a, room["id"], bob, f"spam {round_}")
        path = f"/api/admin/reports/{report_id}/resolve"
        actions = ["dismiss", "delete-message"] if round_ % 2 else ["delete-message"] * 2
        answers = await asyncio.gather(
            *(chat.api("POST", path, root, json={"action": action}) for action in actions)
        )
        assert sorted(status for status, _ in answers) == [200, 409], answers
        (won,) = [body["report"] for status, body in answers if status == 200]
        _, page = await chat.api("GET", f"/api/rooms/{room['id']}/messages", ann)
        (message,) = [m for m in page["messages"] if m["id"] == message_id]
        deleted = message["deletedAt"] is not None
        assert (won["status"], deleted) == ("resolved", won["action"] == "delete-message")
        _, listed = await chat.api("GET", "/api/admin/reports?status=resolved", root)
        (stored,) = [r for r in listed["reports"] if r["id"] == report_id]
        assert stored["action"] == won["action"]


async def test_deleting_from_the_desk_spends_none_of_the_admins_edits(chat: Chat, smtp):
    root, ann, bob = await _admin(chat, smtp), await chat.user("Ann"), await chat.user("Bob")
    room = await chat.room(ann)
    a = await chat.socket(ann)
    for n in range(4):  # twice the admin's budget of edits
        _, report_id = await _reported(chat, a, room["id"], bob, f"spam {n}")
        status, body = await chat.api(
            "POST",
            f"/api/admin/reports/{report_id}/resolve",
            root,
            json={"action": "delete-message"},
        )
        assert (status, body["report"]["message"]["deletedAt"] is not None) == (200, True), body
    deleted = await a.wait_for("message-deleted", lambda d: d["seq"] == 4)
    assert deleted["roomId"] == room["id"]

"""Revoked sessions on live sockets: logout and password change disconnect within 2 seconds."""

from __future__ import annotations

import asyncio
import time

from tests.helpers import PASSWORD


async def _gone(peer, within: float) -> float:
    started = time.monotonic()
    while peer.sio.connected and time.monotonic() - started < within:
        await asyncio.sleep(0.02)
    assert not peer.sio.connected
    return time.monotonic() - started


async def test_logout_disconnects_that_sessions_sockets_only(chat):
    ann = await chat.user("Ann")
    resp = await chat.rest.post("/api/auth/login", json={"email": ann.email, "password": PASSWORD})
    other_token = (await resp.json())["token"]
    chat.rest.session.cookie_jar.clear()
    s1, s2 = await chat.socket(ann), await chat.socket(ann)
    other = await chat.socket(auth={"token": other_token})
    started = time.monotonic()
    assert (await chat.api("POST", "/api/auth/logout", ann))[0] == 200
    assert await s1.wait_for("session-expired", timeout=30) == {"reason": "logout"}
    await s2.wait_for("session-expired", timeout=30)
    await _gone(s1, 2)
    await _gone(s2, 2)
    assert time.monotonic() - started < 2
    assert other.sio.connected
    assert (await other.call("user-status", {"status": "online"}))["ok"] is True


async def test_password_change_disconnects_other_sessions(chat):
    ann = await chat.user("Ann")
    resp = await chat.rest.post("/api/auth/login", json={"email": ann.email, "password": PASSWORD})
    other_token = (await resp.json())["token"]
    chat.rest.session.cookie_jar.clear()
    mine, theirs = await chat.socket(ann), await chat.socket(auth={"token": other_token})
    status, _ = await chat.api(
        "PUT",
        "/api/auth/password",
        ann,
        json={"currentPassword": PASSWORD, "newPassword": "a new password"},
    )
    assert status == 200
    assert await theirs.wait_for("session-expired", timeout=30) == {"reason": "password-changed"}
    await _gone(theirs, 2)
    assert mine.sio.connected

"""Password reset and email verification by email, end to end: a real SMTP server (aiosmtpd, in
the test's event loop) receives what the app sends; each test reads the link's token out of the
mail as a user would and follows it. Expiry is tested by moving the tokens' clock, not by waiting.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from chat.api.keys import SERVICES
from chat.app import create_app
from chat.services.lifecycle import AccountLifecycle
from tests.helpers import PASSWORD, User, bearer
from tests.realtime import Chat
from tests.smtp_server import Received, SmtpServer

PUBLIC_URL = "https://chat.example.org"
NEW_PASSWORD = "a brand new password"


@pytest.fixture
async def chat(
    aiohttp_server: Callable[..., Any],
    aiohttp_client: Callable[..., Any],
    settings: Any,
    smtp: SmtpServer,
) -> AsyncIterator[Chat]:
    """The app with SMTP_URL at the test's SMTP server and links to PUBLIC_URL."""
    changed = dataclasses.replace(
        settings, smtp_url=smtp.url, public_url=PUBLIC_URL, mail_from="Chat <chat@example.org>"
    )
    server = await aiohttp_server(create_app(changed))
    harness = Chat(server, await aiohttp_client(server))
    yield harness
    await harness.close()


def lifecycle(chat: Chat) -> AccountLifecycle:
    return chat.server.app[SERVICES].lifecycle


async def post(chat: Chat, path: str, body: Any, user: User | None = None) -> tuple[int, Any]:
    headers = user.auth if user else {}
    resp = await chat.rest.post(path, json=body, headers=headers)
    return resp.status, await resp.json()


async def forgot(chat: Chat, smtp: SmtpServer, user: User, nth: int = 1) -> str:
    status, body = await post(chat, "/api/auth/password/forgot", {"email": user.email.upper()})
    assert status == 202, body
    return (await smtp.wait_for(user.email, nth)).link_token("reset")


async def verification(chat: Chat, smtp: SmtpServer, user: User, nth: int = 1) -> str:
    status, body = await post(chat, "/api/auth/email/verify-request", None, user)
    assert status == 202, body
    return (await smtp.wait_for(user.email, nth)).link_token("verify")


async def login(chat: Chat, user: User, password: str) -> int:
    body = {"email": user.email, "password": password}
    resp = await chat.rest.post("/api/auth/login", json=body)
    chat.rest.session.cookie_jar.clear()
    return resp.status


def refused(answer: tuple[int, Any], reason: str) -> None:
    status, body = answer
    assert status == 400, body
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"] == {"token": reason}, body


async def test_reset_by_the_emailed_link_ends_every_session(chat, smtp):
    ann = await chat.user("Ann")
    resp = await chat.rest.post("/api/auth/login", json={"email": ann.email, "password": PASSWORD})
    phone = bearer((await resp.json())["token"])
    chat.rest.session.cookie_jar.clear()
    socket = await chat.socket(ann)

    token = await forgot(chat, smtp, ann)
    mail: Received = smtp.to(ann.email)[0]
    assert mail.message["From"] == "Chat <chat@example.org>"
    assert mail.message["Subject"] == "Reset your password"
    assert f"{PUBLIC_URL}/?reset={token}" in mail.body
    assert "60 minutes" in mail.body

    status, body = await post(
        chat, "/api/auth/password/reset", {"token": token, "newPassword": NEW_PASSWORD}
    )
    assert (status, body) == (200, {"message": "Password changed: sign in with the new password"})
    assert await socket.wait_for("session-expired", timeout=30) == {"reason": "password-reset"}
    deadline = time.monotonic() + 5
    while socket.sio.connected and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert not socket.sio.connected
    for headers in (ann.auth, phone):
        assert (await chat.rest.get("/api/auth/me", headers=headers)).status == 401
    assert await login(chat, ann, PASSWORD) == 401
    assert await login(chat, ann, NEW_PASSWORD) == 200

    # The link proved the mailbox; and it works once.
    resp = await chat.rest.post(
        "/api/auth/login", json={"email": ann.email, "password": NEW_PASSWORD}
    )
    assert (await resp.json())["user"]["emailVerified"] is True
    chat.rest.session.cookie_jar.clear()
    again = {"token": token, "newPassword": "yet another password"}
    refused(await post(chat, "/api/auth/password/reset", again), "used")
    assert await login(chat, ann, NEW_PASSWORD) == 200


async def test_a_reset_link_expires(chat, smtp):
    ann = await chat.user("Ann")
    token = await forgot(chat, smtp, ann)
    tokens = lifecycle(chat).recovery.tokens
    issued_at = tokens.clock()
    tokens.clock = lambda: issued_at + 60 * 60_000 + 1  # RESET_TOKEN_MINUTES (60) and a ms
    body = {"token": token, "newPassword": NEW_PASSWORD}
    answer = await post(chat, "/api/auth/password/reset", body)
    refused(answer, "expired")
    assert answer[1]["error"]["message"] == "This link has expired: ask for a new one"
    assert await login(chat, ann, PASSWORD) == 200


async def test_a_new_request_replaces_the_older_link(chat, smtp):
    ann = await chat.user("Ann")
    first = await forgot(chat, smtp, ann)
    second = await forgot(chat, smtp, ann, nth=2)
    assert first != second
    body = {"token": first, "newPassword": NEW_PASSWORD}
    refused(await post(chat, "/api/auth/password/reset", body), "replaced")
    body = {"token": second, "newPassword": NEW_PASSWORD}
    assert (await post(chat, "/api/auth/password/reset", body))[0] == 200


async def test_tokens_are_bound_to_their_purpose_and_account(chat, smtp):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    reset = await forgot(chat, smtp, ann)
    verify = await verification(chat, smtp, ann, nth=2)

    # Each refused where it does not belong, and still good where it does.
    answer = await post(chat, "/api/auth/email/verify", {"token": reset})
    refused(answer, "purpose")
    assert "resetting a password" in answer[1]["error"]["message"]
    body = {"token": verify, "newPassword": NEW_PASSWORD}
    refused(await post(chat, "/api/auth/password/reset", body), "purpose")
    # Bob, signed in, opens Ann's link: refused, and the link stays Ann's.
    refused(await post(chat, "/api/auth/email/verify", {"token": verify}, bob), "account")
    status, body = await post(chat, "/api/auth/email/verify", {"token": verify}, ann)
    assert status == 200, body
    assert body["user"]["id"] == ann.id
    body = {"token": reset, "newPassword": NEW_PASSWORD}
    assert (await post(chat, "/api/auth/password/reset", body))[0] == 200
    assert await login(chat, bob, PASSWORD) == 200  # Bob's account was never touched


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda t: t[:-1], "malformed"),  # cut short in a mail client
        (lambda t: t + "x", "malformed"),
        (lambda t: t.replace(".", ""), "malformed"),
        (lambda t: "not a token", "malformed"),
        (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "invalid"),  # one character off
        (lambda t: "A" * 22 + t[22:], "invalid"),  # a selector nobody was given
    ],
)
async def test_garbled_tokens_are_refused_and_spend_nothing(chat, smtp, mangle, reason):
    ann = await chat.user("Ann")
    token = await forgot(chat, smtp, ann)
    body = {"token": mangle(token), "newPassword": NEW_PASSWORD}
    refused(await post(chat, "/api/auth/password/reset", body), reason)
    body = {"token": token, "newPassword": NEW_PASSWORD}
    assert (await post(chat, "/api/auth/password/reset", body))[0] == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/password/forgot", {}),
        ("/api/auth/password/forgot", {"email": {"$gt": ""}}),
        ("/api/auth/password/forgot", {"email": "ann@example.com", "admin": True}),
        ("/api/auth/password/reset", {"token": "x"}),
        ("/api/auth/password/reset", {"token": {"$ne": ""}, "newPassword": NEW_PASSWORD}),
        ("/api/auth/password/reset", {"token": "x" * 66, "newPassword": "short"}),
        ("/api/auth/password/reset", {"token": "x", "newPassword": NEW_PASSWORD, "userId": "1"}),
        ("/api/auth/email/verify", {}),
        ("/api/auth/email/verify", {"token": ["a"]}),
        ("/api/auth/email/verify", {"token": "x" * 201}),
    ],
)
async def test_bad_bodies_are_validation_errors(chat, path, body):
    status, answer = await post(chat, path, body)
    assert status == 400, answer
    assert answer["error"]["code"] == "VALIDATION_ERROR"


async def test_forgot_for_an_unknown_address_answers_the_same_and_sends_nothing(chat, smtp):
    ann = await chat.user("Ann")
    unknown = await post(chat, "/api/auth/password/forgot", {"email": "nobody@example.com"})
    known = await post(chat, "/api/auth/password/forgot", {"email": ann.email})
    assert unknown == known
    assert unknown[0] == 202
    await lifecycle(chat).recovery.settle()  # every background job has ended
    assert [r.recipients for r in smtp.received] == [[ann.email]]


async def test_verify_email(chat, smtp):
    ann = await chat.user("Ann")
    assert ann.profile["emailVerified"] is False
    token = await verification(chat, smtp, ann)
    mail = smtp.to(ann.email)[0]
    assert mail.message["Subject"] == "Confirm your email address"
    assert f"{PUBLIC_URL}/?verify={token}" in mail.body

    # Opened on another device where nobody is signed in: the token says whose address it is.
    status, body = await post(chat, "/api/auth/email/verify", {"token": token})
    assert status == 200, body
    assert body["user"]["emailVerified"] is True
    assert body["user"]["email"] == ann.email
    _, me = await chat.api("GET", "/api/users/me", ann)
    assert me["user"]["emailVerified"] is True
    refused(await post(chat, "/api/auth/email/verify", {"token": token}), "used")
    status, body = await post(chat, "/api/auth/email/verify-request", None, ann)
    assert status == 202 and "verified already" in body["message"], body
    await lifecycle(chat).recovery.settle()  # (nothing was handed over: no email)
    assert len(smtp.to(ann.email)) == 1
    assert (await chat.rest.post("/api/auth/email/verify-request")).status == 401


async def test_emails_to_one_address_are_rate_limited(chat, smtp):
    """RATE_LIMIT_LOGIN_ACCOUNT (5 per 15 minutes by default) per address, known or not."""
    for address in ("ann@example.com", "nobody@example.com"):
        answers = [
            (await post(chat, "/api/auth/password/forgot", {"email": address}))[0] for _ in range(6)
        ]
        assert answers == [202] * 5 + [429]

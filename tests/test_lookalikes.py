"""Look-alike names, texts and emails (issue 19, finding 7), tried at every door of the real app."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import PASSWORD

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧: two ZWJs inside one emoji
FLAG = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"  # Scotland: tags
# (sent, stored): invisible characters go, NFKC makes one spelling of a name.
NAMES = [
    ("A\u200bd\u200cm\u200di\u2060n\ufeff", "Admin"),  # zero-width characters
    ("\u202enimdA", "nimdA"),  # a right-to-left override that drew "Admin"
    ("\u2066Ann\u2069 \u200e\u200fLee", "Ann Lee"),  # isolates and marks
    ("\uff21\uff44\uff4d\uff49\uff4e", "Admin"),  # fullwidth letters
    ("Ann\u3164", "Ann"),  # a trailing Hangul filler
    ("Ann  \u3000 Lee", "Ann Lee"),  # runs of spaces, an ideographic space
]
BLANK = ["\u3164", "\u115f", "\uffa0", "\u200b", " \u200b \u2800 ", "\u202e", "\x00", "\u3000"]


async def _register(chat, name: str, email: str) -> tuple[int, dict]:
    resp = await chat.rest.post(
        "/api/auth/register", json={"name": name, "email": email, "password": PASSWORD}
    )
    chat.rest.session.cookie_jar.clear()
    return resp.status, await resp.json()


def _refused(status: int, body: dict) -> bool:
    return status == 400 and body["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(("sent", "stored"), NAMES)
async def test_names_are_stored_without_invisible_characters(chat, sent, stored):
    status, body = await _register(chat, sent, f"u-{uuid.uuid4().hex[:8]}@example.com")
    assert status == 201 and body["user"]["name"] == stored
    ann = await chat.user("Ann")
    status, body = await chat.api("PATCH", "/api/users/me", ann, json={"name": sent})
    assert status == 200 and body["user"]["name"] == stored
    status, body = await chat.api("POST", "/api/rooms", ann, json={"name": sent})
    assert status == 201 and body["room"]["name"] == stored


async def test_blank_and_invisible_names_are_refused_at_every_door(chat):
    ann = await chat.user("Ann")
    room = await chat.room(ann)
    for name in BLANK:
        email = f"u-{uuid.uuid4().hex[:8]}@example.com"
        assert _refused(*await _register(chat, name, email)), repr(name)
        assert _refused(*await chat.api("PATCH", "/api/users/me", ann, json={"name": name}))
        assert _refused(*await chat.api("POST", "/api/rooms", ann, json={"name": name}))
        path = f"/api/rooms/{room['id']}"
        assert _refused(*await chat.api("PATCH", path, ann, json={"name": name}))
    _, me = await chat.api("GET", "/api/users/me", ann)
    assert me["user"]["name"] == "Ann"


async def test_bio_and_description_lose_bidi_controls_and_keep_their_lines(chat):
    ann = await chat.user("Ann")
    bio = "\u202eevil\u202c line one\r\nline\u200b two \U0001f44b\ufe0f"
    status, body = await chat.api("PATCH", "/api/users/me", ann, json={"bio": bio})
    assert status == 200 and body["user"]["bio"] == "evil line one\nline two \U0001f44b\ufe0f"
    status, body = await chat.api(
        "POST", "/api/rooms", ann, json={"name": "Team", "description": "\u200b"}
    )
    assert status == 201 and body["room"]["description"] == ""  # may be empty, never invisible


async def test_blank_and_invisible_messages_are_refused_over_socket_and_rest(chat):
    ann = await chat.user("Ann")
    room = await chat.room(ann)
    a = await chat.socket(ann)
    kept = (await a.call("send-message", {"roomId": room["id"], "text": "kept"}))["message"]
    for text in [*BLANK, "\x00\x01\x7f", "\u2060\ufeff\u061c"]:
        ack = await a.call("send-message", {"roomId": room["id"], "text": text})
        assert ack["ok"] is False and ack["error"]["code"] == "VALIDATION_ERROR", repr(text)
        status, body = await chat.api(
            "POST", f"/api/rooms/{room['id']}/messages", ann, json={"text": text}
        )
        assert _refused(status, body), repr(text)
        ack = await a.call("edit-message", {"messageId": kept["id"], "text": text})
        assert ack["error"]["code"] == "VALIDATION_ERROR"
        path = f"/api/messages/{kept['id']}"
        assert _refused(*await chat.api("PATCH", path, ann, json={"text": text}))
    _, page = await chat.api("GET", f"/api/rooms/{room['id']}/messages", ann)
    assert [m["text"] for m in page["messages"]] == ["kept"]  # nothing else took a seq


async def test_texts_lose_invisible_characters_but_emoji_sequences_survive(chat):
    ann = await chat.user("Ann")
    room = await chat.room(ann)
    a = await chat.socket(ann)
    text = f"\u202ehi\u202c\u200b there\x00 {FAMILY} {FLAG} \U0001f3c3\U0001f3fd\u200d\u2640\ufe0f"
    want = f"hi there {FAMILY} {FLAG} \U0001f3c3\U0001f3fd\u200d\u2640\ufe0f"
    sent = (await a.call("send-message", {"roomId": room["id"], "text": text}))["message"]
    assert sent["text"] == want
    status, body = await chat.api(
        "POST", f"/api/rooms/{room['id']}/messages", ann, json={"text": text}
    )
    assert status == 201 and body["message"]["text"] == want
    # Persian writes some words with a zero-width non-joiner between letters: that one stays.
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # می‌خواهم, "I want"
    edited = await a.call("edit-message", {"messageId": sent["id"], "text": persian})
    assert edited["message"]["text"] == persian


async def test_look_alike_emails_are_the_same_account_or_refused(chat):
    local = f"ines{uuid.uuid4().hex[:6]}"
    status, body = await _register(chat, "Ines", f"{local}@example.com")
    assert status == 201
    first = body["user"]["id"]
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in local)  # fullwidth: the same letters
    for email in (f"{fullwidth}@example.com", f"{local.upper()}@EXAMPLE.COM"):
        status, body = await _register(chat, "Ines", email)
        assert (status, body["error"]["code"]) == (409, "CONFLICT"), email
    # A Turkish dotted capital I lower-cases to i + a combining dot: not ASCII, so refused rather
    # than an account whose address looks like the first one.
    for email in (f"\u0130{local[1:]}@example.com", f"{local}\u200b@example.com"):
        status, body = await _register(chat, "Ines", email)
        assert _refused(status, body), email
    # The same spellings sign in to the one account.
    resp = await chat.rest.post(
        "/api/auth/login",
        json={
            "email": f"{fullwidth}@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com",
            "password": PASSWORD,
        },
    )
    assert resp.status == 200 and (await resp.json())["user"]["id"] == first
    # A domain in another script is stored in its ASCII (IDNA) form: one spelling again.
    status, body = await _register(chat, "Jo", f"jo-{local}@b\u00fccher.example")
    assert status == 201
    status, body = await _register(chat, "Jo", f"jo-{local}@xn--bcher-kva.example")
    assert status == 409

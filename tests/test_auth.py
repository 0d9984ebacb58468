"""Accounts over REST: register, login, me, refresh, logout, password change; tokens good and bad."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from tests.helpers import ORIGIN, PASSWORD, bearer, register


async def test_register_login_me_with_cookie(client):
    resp = await client.post(
        "/api/auth/register",
        json={"name": "Ann", "email": "Ann@Example.COM", "password": PASSWORD},
    )
    assert resp.status == 201
    body = await resp.json()
    assert set(body) == {"user", "token"}
    user = body["user"]
    assert user["email"] == "ann@example.com"
    assert set(user) == {
        "id",
        "name",
        "avatarUrl",
        "bio",
        "status",
        "online",
        "lastSeen",
        "createdAt",
        "email",
        "emailVerified",
        "role",
        "allowDirectFrom",
    }
    assert (user["emailVerified"], user["role"], user["allowDirectFrom"]) == (
        False, "user", "everyone",
    )  # fmt: skip
    assert user["createdAt"].endswith("Z") and len(user["createdAt"]) == 24

    client.session.cookie_jar.clear()
    resp = await client.post(
        "/api/auth/login", json={"email": "ANN@example.com", "password": PASSWORD}
    )
    assert resp.status == 200
    assert (await resp.json())["user"]["id"] == user["id"]
    resp = await client.get("/api/auth/me")  # the cookie from login carries the session
    assert resp.status == 200
    me = (await resp.json())["user"]
    assert me["id"] == user["id"] and me["email"] == "ann@example.com"


async def test_cookie_attributes(client):
    resp = await client.post(
        "/api/auth/register", json={"name": "Bo", "email": "bo@example.com", "password": PASSWORD}
    )
    header = resp.headers["Set-Cookie"]
    assert header.startswith("token=")
    for attribute in ("HttpOnly", "Path=/", "SameSite=Lax"):
        assert attribute in header
    assert "Secure" not in header


async def test_secure_cookie_and_hsts_when_enabled(make_client):
    client = await make_client(cookie_secure=True, cookie_name="sid")
    resp = await client.post(
        "/api/auth/register", json={"name": "Cy", "email": "cy@example.com", "password": PASSWORD}
    )
    assert resp.headers["Set-Cookie"].startswith("sid=")
    assert "Secure" in resp.headers["Set-Cookie"]
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_duplicate_email_is_conflict_case_insensitively(client):
    await register(client, email="dup@example.com")
    resp = await client.post(
        "/api/auth/register", json={"name": "X", "email": "DUP@example.com", "password": PASSWORD}
    )
    assert resp.status == 409
    assert (await resp.json())["error"]["code"] == "CONFLICT"


async def test_wrong_password_and_unknown_email_answer_the_same(client):
    await register(client, email="known@example.com")
    wrong = await client.post(
        "/api/auth/login", json={"email": "known@example.com", "password": "x" * 10}
    )
    unknown = await client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "x" * 10}
    )
    assert wrong.status == unknown.status == 401
    assert await wrong.json() == await unknown.json()
    assert (await wrong.json())["error"]["message"] == "Invalid email or password"


@pytest.mark.parametrize("length", [100, 300])
async def test_long_passwords(client, length):
    password = "p" * length
    resp = await client.post(
        "/api/auth/register",
        json={"name": "Long", "email": f"long{length}@example.com", "password": password},
    )
    if length <= 256:
        assert resp.status == 201
        # Every character counts: a password differing only at the end must fail.
        near = await client.post(
            "/api/auth/login",
            json={"email": f"long{length}@example.com", "password": "p" * 99 + "q"},
        )
        assert near.status == 401
        good = await client.post(
            "/api/auth/login", json={"email": f"long{length}@example.com", "password": password}
        )
        assert good.status == 200
    else:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "VALIDATION_ERROR"


async def test_short_password_is_validation_error(client):
    resp = await client.post(
        "/api/auth/register", json={"name": "S", "email": "s@example.com", "password": "short"}
    )
    assert resp.status == 400
    assert "password" in (await resp.json())["error"]["details"]["fields"]


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "A", "email": "a@example.com", "password": PASSWORD, "isAdmin": True},
        {"name": {"$gt": ""}, "email": "a@example.com", "password": PASSWORD},
        {"name": "A", "email": {"$gt": ""}, "password": PASSWORD},
        {"name": "A", "email": "a@example.com", "password": {"$gt": ""}},
        {"name": 5, "email": "a@example.com", "password": PASSWORD},
        {"name": "A" * 51, "email": "a@example.com", "password": PASSWORD},
        {"name": "   ", "email": "a@example.com", "password": PASSWORD},
        {"email": "a@example.com", "password": PASSWORD},
        {"name": "A", "email": "not-an-email", "password": PASSWORD},
        ["not", "an", "object"],
        "a string",
        None,
    ],
)
async def test_register_refuses_bad_bodies(client, payload):
    resp = await client.post("/api/auth/register", json=payload)
    assert resp.status == 400
    body = await resp.json()
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert "Traceback" not in json.dumps(body)


@pytest.mark.parametrize("field", ["email", "password"])
async def test_login_refuses_operators(client, field):
    await register(client, email="op@example.com")
    payload = {"email": "op@example.com", "password": PASSWORD, field: {"$gt": ""}}
    resp = await client.post("/api/auth/login", json=payload)
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "VALIDATION_ERROR"


async def test_malformed_json_and_oversized_body(client):
    resp = await client.post(
        "/api/auth/login", data=b'{"email": "a@', headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert (await resp.json())["error"]["message"] == "Malformed JSON body"
    # A cross-site form can post text/plain that happens to be JSON: refused.
    resp = await client.post(
        "/api/auth/login",
        data=b'{"email": "a@example.com", "password": "whatever1"}',
        headers={"Content-Type": "text/plain"},
    )
    assert resp.status == 415
    assert (await resp.json())["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    resp = await client.post(
        "/api/auth/login", data=b'{"email": "a@', headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert (await resp.json())["error"]["message"] == "Malformed JSON body"
    big = json.dumps({"email": "a@example.com", "password": "x" * 200_000})
    resp = await client.post(
        "/api/auth/login", data=big, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "PAYLOAD_TOO_LARGE"
    deep = "[" * 100_000 + "]" * 100_000
    resp = await client.post(
        "/api/auth/login", data=deep[:60_000], headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400


def _forge(claims: dict, header: dict | None = None, key: str = "") -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    head = header or {"alg": "none", "typ": "JWT"}
    return f"{part(head)}.{part(claims)}."


async def test_bad_tokens_are_refused(client, settings):
    ann = await register(client)
    client.session.cookie_jar.clear()
    good = jwt.decode(ann.token, options={"verify_signature": False})
    expired = jwt.encode(
        {**good, "exp": int(time.time()) - 10}, settings.jwt_secret, algorithm="HS256"
    )
    wrong_key = jwt.encode(good, "another-secret-" + "y" * 60, algorithm="HS256")
    tampered_payload = {**good, "sub": "0" * 24}
    head, _, sig = ann.token.split(".")
    tampered = ".".join(
        [
            head,
            base64.urlsafe_b64encode(json.dumps(tampered_payload).encode()).rstrip(b"=").decode(),
            sig,
        ]
    )
    no_exp = jwt.encode(
        {"sub": good["sub"], "sid": good["sid"]}, settings.jwt_secret, algorithm="HS256"
    )
    hs512 = jwt.encode(good, settings.jwt_secret, algorithm="HS512")
    cases = {
        "missing": {},
        "garbage": bearer("not.a.token"),
        "expired": bearer(expired),
        "wrong key": bearer(wrong_key),
        "tampered": bearer(tampered),
        "alg none": bearer(_forge(good)),
        "no exp": bearer(no_exp),
        "HS512": bearer(hs512),
        "basic scheme": {"Authorization": "Basic abc"},
    }
    for name, headers in cases.items():
        resp = await client.get("/api/auth/me", headers=headers)
        assert resp.status == 401, name
        assert (await resp.json())["error"]["code"] == "UNAUTHORIZED", name
    assert (await client.get("/api/auth/me", headers=bearer(ann.token))).status == 200


async def test_logout_revokes_the_session_everywhere(client):
    ann = await register(client)
    token = ann.token
    resp = await client.post("/api/auth/logout", headers={**bearer(token)})
    assert resp.status == 200
    assert await resp.json() == {"message": "Logged out"}
    assert "token=;" in resp.headers["Set-Cookie"] or 'token="";' in resp.headers["Set-Cookie"]
    assert (await client.get("/api/auth/me", headers=bearer(token))).status == 401


async def test_refresh_extends_the_same_session(client):
    ann = await register(client)
    resp = await client.post("/api/auth/refresh", headers=bearer(ann.token))
    assert resp.status == 200
    fresh = (await resp.json())["token"]
    old, new = (jwt.decode(t, options={"verify_signature": False}) for t in (ann.token, fresh))
    assert new["sid"] == old["sid"] and new["exp"] >= old["exp"]
    await client.post("/api/auth/logout", headers=bearer(fresh))
    # One session: logging out with the fresh token revokes the old one too.
    assert (await client.get("/api/auth/me", headers=bearer(ann.token))).status == 401


async def test_password_change_revokes_other_sessions(client):
    ann = await register(client, email="pw@example.com")
    other = await client.post(
        "/api/auth/login", json={"email": "pw@example.com", "password": PASSWORD}
    )
    other_token = (await other.json())["token"]
    client.session.cookie_jar.clear()
    wrong = await client.put(
        "/api/auth/password",
        json={"currentPassword": "not-it-at-all", "newPassword": "brand new pass"},
        headers=bearer(ann.token),
    )
    assert wrong.status == 401
    resp = await client.put(
        "/api/auth/password",
        json={"currentPassword": PASSWORD, "newPassword": "brand new pass"},
        headers=bearer(ann.token),
    )
    assert resp.status == 200
    assert (await client.get("/api/auth/me", headers=bearer(other_token))).status == 401
    assert (await client.get("/api/auth/me", headers=bearer(ann.token))).status == 200
    old = await client.post(
        "/api/auth/login", json={"email": "pw@example.com", "password": PASSWORD}
    )
    assert old.status == 401
    new = await client.post(
        "/api/auth/login", json={"email": "pw@example.com", "password": "brand new pass"}
    )
    assert new.status == 200


async def test_cookie_csrf_rule(client):
    await register(client)  # the client's jar now holds the session cookie
    foreign = await client.post("/api/auth/refresh", headers={"Origin": "https://evil.example"})
    assert foreign.status == 403
    assert (await foreign.json())["error"]["code"] == "FORBIDDEN"
    missing = await client.post("/api/auth/refresh")
    assert missing.status == 403
    allowed = await client.post("/api/auth/refresh", headers={"Origin": ORIGIN})
    assert allowed.status == 200
    own = f"http://{client.host}:{client.port}"
    assert (await client.post("/api/auth/refresh", headers={"Origin": own})).status == 200
    # GET is not state-changing; Bearer requests are not cookie-borne.
    assert (
        await client.get("/api/auth/me", headers={"Origin": "https://evil.example"})
    ).status == 200

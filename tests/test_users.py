"""The users directory, search, profiles and the caller's own profile."""

from __future__ import annotations

import pytest

from tests.helpers import bearer, register


async def test_list_excludes_me_and_pages(client):
    me = await register(client, "Me")
    for name in ("Ada", "Bob", "Cid"):
        await register(client, name)
    resp = await client.get("/api/users?limit=2&skip=0", headers=bearer(me.token))
    body = await resp.json()
    assert body["total"] == 3
    assert [u["name"] for u in body["users"]] == ["Ada", "Bob"]
    assert "email" not in body["users"][0]
    page2 = await (await client.get("/api/users?limit=2&skip=2", headers=bearer(me.token))).json()
    assert [u["name"] for u in page2["users"]] == ["Cid"]


@pytest.mark.parametrize(
    "qs", ["limit=0", "limit=101", "limit=abc", "skip=-1", "limit=5&limit=6", "extra=1"]
)
async def test_list_refuses_bad_queries(client, qs):
    me = await register(client)
    resp = await client.get(f"/api/users?{qs}", headers=bearer(me.token))
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "VALIDATION_ERROR"


async def test_search_by_name_prefix_escapes_input(client):
    me = await register(client, "Me")
    await register(client, "Alice", email="alice@example.com")
    await register(client, "Bob", email="zed@example.com")
    await register(client, "a.b(c", email="dots@example.com")

    async def search(q: str) -> list[str]:
        resp = await client.get("/api/users/search", params={"q": q}, headers=bearer(me.token))
        assert resp.status == 200
        return sorted(u["name"] for u in (await resp.json())["users"])

    assert await search("AL") == ["Alice"]
    assert await search("zed@example.com") == ["Bob"]  # a whole address finds its owner
    assert await search("a.b(") == ["a.b(c"]
    assert await search(".*") == []  # a pattern is matched literally, never run
    assert await search("lice") == []  # prefix only
    resp = await client.get("/api/users/search", headers=bearer(me.token))
    assert resp.status == 400


async def test_search_never_spells_out_an_email_and_matches_word_starts(client):
    me = await register(client, "Me")
    await register(client, "Alice", email="alice@example.com")
    await register(client, "Bob Marley", email="qx7@example.com")

    async def search(q: str) -> list[str]:
        resp = await client.get("/api/users/search", params={"q": q}, headers=bearer(me.token))
        assert resp.status == 200
        return sorted(u["name"] for u in (await resp.json())["users"])

    # The attack: extend an email prefix one character at a time. No prefix of it matches.
    for end in range(1, len("qx7@example.co") + 1):
        assert await search("qx7@example.com"[:end]) == [], "qx7@example.com"[:end]
    assert await search("QX7@example.com") == ["Bob Marley"]
    assert await search("bo") == ["Bob Marley"]
    assert await search("mar") == ["Bob Marley"]  # the start of any word
    assert await search("ob") == []  # not the middle of one
    assert await search("arley") == []


async def test_get_user_and_not_found(client):
    me = await register(client, "Me")
    other = await register(client, "Other")
    resp = await client.get(f"/api/users/{other.id}", headers=bearer(me.token))
    assert (await resp.json())["user"]["name"] == "Other"
    assert "email" not in (await resp.json())["user"]
    for bad in ("0" * 24, "nope", "%24gt"):
        resp = await client.get(f"/api/users/{bad}", headers=bearer(me.token))
        assert resp.status == 404


async def test_update_me(client):
    me = await register(client, "Me")
    resp = await client.patch(
        "/api/users/me",
        json={"name": "New Name", "bio": "hi", "status": "busy"},
        headers=bearer(me.token),
    )
    assert resp.status == 200
    user = (await resp.json())["user"]
    assert (user["name"], user["bio"], user["email"]) == ("New Name", "hi", me.email)
    for bad in (
        {"email": "x@example.com"},
        {"status": "sleeping"},
        {"bio": "x" * 501},
        {"name": {"$set": 1}},
    ):
        resp = await client.patch("/api/users/me", json=bad, headers=bearer(me.token))
        assert resp.status == 400, bad


async def test_users_endpoints_need_auth(client):
    for path in (
        "/api/users",
        "/api/users/online",
        "/api/users/search?q=a",
        f"/api/users/{'0' * 24}",
    ):
        assert (await client.get(path)).status == 401

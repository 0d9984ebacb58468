"""Emailed tokens under attack: ten uses of one reset link at once, and what the database keeps of
a token (its hash, never the token)."""

from __future__ import annotations

import asyncio
import hashlib
import json

from pymongo import AsyncMongoClient

from chat.api.keys import SERVICES
from chat.errors import ValidationFailed
from tests.helpers import PASSWORD

NEW_PASSWORD = "a brand new password"


async def test_ten_racing_uses_of_one_link_succeed_once(client, captured):
    resp = await client.post(
        "/api/auth/register", json={"name": "Ann", "email": "ann@example.com", "password": PASSWORD}
    )
    assert resp.status == 201
    client.session.cookie_jar.clear()
    assert (
        await client.post("/api/auth/password/forgot", json={"email": "ann@example.com"})
    ).status == 202
    await client.app[SERVICES].lifecycle.recovery.settle()
    # No SMTP_URL: the link is in the log, as a developer would find it.
    (line,) = [r.getMessage() for r in captured.records if r.name == "chat.mail"]
    token = line.split("?reset=")[1].split()[0]

    async def use(i: int) -> tuple[int, object]:
        body = {"token": token, "newPassword": f"{NEW_PASSWORD} {i}"}
        resp = await client.post("/api/auth/password/reset", json=body)
        answer = await resp.json()
        return resp.status, answer.get("error", {}).get("details")

    answers = await asyncio.gather(*(use(i) for i in range(10)))
    assert sorted(answers, key=str) == sorted(
        [(200, None)] + [(400, {"token": "used"})] * 9, key=str
    )
    (winner,) = [i for i, (status, _) in enumerate(answers) if status == 200]
    login = {"email": "ann@example.com", "password": f"{NEW_PASSWORD} {winner}"}
    assert (await client.post("/api/auth/login", json=login)).status == 200


async def test_the_database_keeps_the_hash_not_the_token(client, captured, settings):
    resp = await client.post(
        "/api/auth/register", json={"name": "Bob", "email": "bob@example.com", "password": PASSWORD}
    )
    client.session.cookie_jar.clear()
    bob_id = (await resp.json())["user"]["id"]
    await client.post("/api/auth/password/forgot", json={"email": "bob@example.com"})
    await client.app[SERVICES].lifecycle.recovery.settle()
    (line,) = [r.getMessage() for r in captured.records if r.name == "chat.mail"]
    selector, verifier = line.split("?reset=")[1].split()[0].split(".")
    assert len(selector) == 22 and len(verifier) == 43  # 128 and 256 random bits, base64url
    mongo: AsyncMongoClient = AsyncMongoClient(settings.mongodb_uri)
    try:
        tokens = mongo[settings.mongodb_db]["account_tokens"]
        (doc,) = await tokens.find({"userId": bob_id}).to_list()
    finally:
        await mongo.close()
    assert doc["_id"] == selector
    assert doc["digest"] == hashlib.sha256(verifier.encode()).hexdigest()
    assert verifier not in json.dumps(doc, default=str)
    assert doc["purpose"] == "reset"


async def test_of_links_issued_at_once_only_one_works(client):
    """Issuing voids the older links before it stores its own, so issues at once (two `forgot`
    requests, on one node or two) could each void before the other stored: every link would
    work. Only the newest may."""
    resp = await client.post(
        "/api/auth/register", json={"name": "Cat", "email": "cat@example.com", "password": PASSWORD}
    )
    client.session.cookie_jar.clear()
    recovery = client.app[SERVICES].lifecycle.recovery
    cat = await recovery.store.users.get((await resp.json())["user"]["id"])
    assert cat is not None

    async def refusal(token: str) -> object:
        try:
            await recovery.tokens.check(token, "reset")
        except ValidationFailed as refused:
            return refused.details
        return None

    for _ in range(8):  # how the issues interleave varies: several rounds
        tokens = await asyncio.gather(*(recovery.tokens.issue(cat, "reset") for _ in range(4)))
        verdicts = {t: await refusal(t) for t in tokens}
        works = [t for t, why in verdicts.items() if why is None]
        assert len(works) == 1, verdicts
        assert [why for why in verdicts.values() if why] == [{"token": "replaced"}] * 3
    others = [t for t in tokens if t != works[0]]
    for token in [*others, works[0]]:
        body = {"token": token, "newPassword": NEW_PASSWORD}
        resp = await client.post("/api/auth/password/reset", json=body)
        assert resp.status == (200 if token == works[0] else 400), await resp.json()

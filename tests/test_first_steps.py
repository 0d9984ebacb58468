"""What a new user tripped over (issue 18): each one through the real app and real clients."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp
from limits import parse

from chat.store.embedded import EmbeddedMongo
from config.settings import load_settings
from tests.helpers import PASSWORD, register
from tests.realtime import Chat

ROOT = Path(__file__).resolve().parents[1]


async def _room_with(chat: Chat, *users):
    room = await chat.room(users[0])
    for user in users[1:]:
        await chat.join(user, room)
    return room


async def test_a_send_announces_the_typist_stopped_under_their_name(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await _room_with(chat, ann, bob)
    a, b = await chat.socket(ann), await chat.socket(bob)
    assert (await a.call("typing-start", {"roomId": room["id"]}))["ok"]
    await b.wait_for("user-typing", lambda p: p["isTyping"])
    assert (await a.call("send-message", {"roomId": room["id"], "text": "hi"}))["ok"]
    stopped = await b.wait_for("user-typing", lambda p: not p["isTyping"])
    assert stopped == {"roomId": room["id"], "userId": ann.id, "name": "Ann", "isTyping": False}
    # The same through REST, the other door into the same send (Bob types, Ann listens).
    assert (await b.call("typing-start", {"roomId": room["id"]}))["ok"]
    await a.wait_for("user-typing", lambda p: p["isTyping"] and p["userId"] == bob.id)
    status, _ = await chat.api(
        "POST", f"/api/rooms/{room['id']}/messages", bob, json={"text": "again"}
    )
    assert status == 201
    stopped = await a.wait_for("user-typing", lambda p: not p["isTyping"])
    assert stopped["name"] == "Bob"


async def test_get_users_me_answers_your_own_profile_with_email(chat):
    ann = await chat.user("Ann")
    status, body = await chat.api("GET", "/api/users/me", ann)
    assert status == 200
    assert body["user"]["id"] == ann.id and body["user"]["email"] == ann.email
    assert (await chat.rest.get("/api/users/me")).status == 401


async def test_a_known_path_with_a_wrong_method_is_405_with_allow(chat):
    ann = await chat.user("Ann")
    resp = await chat.rest.delete("/api/users/search", headers=ann.auth)
    assert resp.status == 405
    assert (await resp.json())["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in [m.strip() for m in resp.headers["Allow"].split(",")]
    resp = await chat.rest.put("/api/auth/login", json={})
    assert resp.status == 405 and "POST" in resp.headers["Allow"]
    # An unknown path stays 404.
    assert (await chat.rest.get("/api/no-such-thing")).status == 404


async def test_health_answers_timestamp_and_environment(client):
    body = await (await client.get("/health")).json()
    assert body["environment"] == "development"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["timestamp"])
    assert {"status", "database", "uptime", "version"} <= body.keys()


def test_the_embedded_database_leaves_nothing_behind(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # what gettempdir() answers
    memory = EmbeddedMongo(data_dir=None)
    memory.start()
    memory.stop()
    assert list(scratch.iterdir()) == []
    # On disk: every start reuses one log pair instead of adding nx-27017-<port>.log/.stderr.
    seen = []
    for _ in range(2):
        server = EmbeddedMongo(tmp_path / "db")
        server.start()
        server.stop()
        # SQLite's own files (`*.db`, `-wal`, `-shm`) come and go with its checkpoints: the
        # promise is about the server's pid and log files.
        files = (p.name for p in (tmp_path / "db").iterdir())
        seen.append(sorted(name for name in files if ".db" not in name))
    assert seen[0] == seen[1]


def _run_py(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py")],
        env={**os.environ, "DATA_DIR": str(tmp_path), "MONGODB_URI": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def test_a_busy_port_is_one_line_not_a_traceback(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_py(tmp_path, PORT=str(port), HOST="127.0.0.1")
    assert result.returncode == 2
    assert f"port {port} is in use" in result.stderr and "set PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_log_level_is_a_configuration_error(tmp_path):
    result = _run_py(tmp_path, LOG_LEVEL="verbose")
    assert result.returncode == 2
    assert "LOG_LEVEL" in result.stderr and "Traceback" not in result.stderr


def test_development_listens_on_loopback_and_production_on_every_interface(tmp_path):
    dev = load_settings({"DATA_DIR": str(tmp_path)}, env_file=None)
    assert dev.host == "127.0.0.1"
    assert load_settings({"DATA_DIR": str(tmp_path), "HOST": "0.0.0.0"}, env_file=None).host == (
        "0.0.0.0"
    )
    prod = load_settings(
        {"CHAT_ENV": "production", "JWT_SECRET": "s" * 32, "DATA_DIR": str(tmp_path)},
        env_file=None,
    )
    assert prod.host == "0.0.0.0"


def test_login_limits_keep_the_contract_in_production_and_loosen_in_development(tmp_path):
    prod = load_settings(
        {"CHAT_ENV": "production", "JWT_SECRET": "s" * 32, "DATA_DIR": str(tmp_path)},
        env_file=None,
    )
    assert (prod.rate_limit_auth, prod.rate_limit_login_account) == ("5/15minutes", "5/15minutes")
    dev = load_settings({"DATA_DIR": str(tmp_path)}, env_file=None)
    assert parse(dev.rate_limit_auth).amount >= 50
    assert parse(dev.rate_limit_login_account).amount > 5


async def _login(client, email: str, password: str, address: str):
    return await client.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": address},
    )


async def test_failed_logins_are_limited_per_account_from_any_address(make_client):
    client = await make_client(
        trust_proxy=True, rate_limit_auth="100/minute", rate_limit_login_account="3/minute"
    )
    ann = (await register(client, "Ann")).profile
    bob = (await register(client, "Bob")).profile
    ann_email = ann["email"]
    for n in range(3):  # three addresses, one wrong password each
        resp = await _login(client, ann_email.upper(), "wrong password!", f"10.0.0.{n}")
        assert resp.status == 401
    resp = await _login(client, ann_email, PASSWORD, "10.0.0.9")  # even the right one, for now
    assert resp.status == 429
    body = await resp.json()
    assert body["error"]["code"] == "RATE_LIMITED" and body["error"]["details"]["retryAfter"] > 0
    assert int(resp.headers["Retry-After"]) > 0
    # Bob, from an address that failed for Ann, is not affected; successes count for nobody.
    bob_email = bob["email"]
    for _ in range(4):
        resp = await _login(client, bob_email, PASSWORD, "10.0.0.0")
        assert resp.status == 200, await resp.text()
    assert ann["id"] != bob["id"]


async def test_logins_are_limited_per_address(make_client):
    client = await make_client(
        trust_proxy=True, rate_limit_auth="4/minute", rate_limit_login_account="100/minute"
    )
    email = (await register(client, "Ann")).email  # one hit from 127.0.0.1
    for _ in range(4):
        assert (await _login(client, email, PASSWORD, "10.0.1.1")).status == 200
    assert (await _login(client, email, PASSWORD, "10.0.1.1")).status == 429
    assert (await _login(client, email, PASSWORD, "10.0.1.2")).status == 200


def test_the_committed_env_keeps_development_on_loopback(tmp_path):
    settings = load_settings({"DATA_DIR": str(tmp_path)}, env_file=ROOT / ".env")
    assert settings.host == "127.0.0.1"


def test_the_readmes_curl_jar_is_ignored_and_nothing_unread_is():
    ignored = subprocess.run(["git", "check-ignore", "-q", "jar"], cwd=ROOT, check=False)
    assert ignored.returncode == 0
    # .env.local was ignored although nothing reads it: a newcomer's settings there did nothing.
    assert ".env.local" not in (ROOT / ".gitignore").read_text().split()


def test_npm_test_in_clients_installs_its_packages_first():
    scripts = json.loads((ROOT / "clients" / "package.json").read_text())["scripts"]
    # npm runs `pretest` before `test`: a fresh clone's `npm test --prefix clients` works.
    assert "npm ci" in scripts["pretest"]
    readme = (ROOT / "README.md").read_text()
    assert "npm ci --prefix\nclients" in readme or "npm ci --prefix clients" in readme


async def test_csv_and_markdown_with_browser_types_are_accepted_as_text(chat):
    ann = await chat.user("Ann")

    async def upload(data: bytes, name: str, mime: str):
        form = aiohttp.FormData()
        form.add_field("file", data, filename=name, content_type=mime)
        resp = await chat.rest.post("/api/uploads", data=form, headers=ann.auth)
        return resp.status, await resp.json()

    status, body = await upload(b"name,count\nann,3\n", "sheet.csv", "text/csv")
    assert status == 201, body
    assert body["attachment"]["mimeType"] == "text/csv"
    status, body = await upload("# Plan\n\n- caf\u00e9\n".encode(), "plan.md", "text/markdown")
    assert status == 201, body
    assert body["attachment"]["mimeType"] == "text/markdown"
    # The byte checks stay: markup or invalid UTF-8 under a text name is still refused.
    status, body = await upload(b"<html><script>x</script></html>", "page.md", "text/markdown")
    assert (status, body["error"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    status, body = await upload(b"a,b\n\xff\xfe,\n", "bad.csv", "text/csv")
    assert (status, body["error"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    # Other families still must agree.
    status, body = await upload(b"name,count\n", "sheet.csv", "application/pdf")
    assert status == 415


async def test_a_reaction_is_one_emoji_or_a_shortcode(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await _room_with(chat, ann, bob)
    a = await chat.socket(ann)
    sent = (await a.call("send-message", {"roomId": room["id"], "text": "react to me"}))["message"]
    accepted = ["👍", "👍🏽", "👨\u200d👩\u200d👧", "🇫🇷", "❤️", ":party_parrot:", ":+1:"]
    for emoji in accepted:
        ack = await a.call("react-message", {"messageId": sent["id"], "emoji": emoji})
        assert ack["ok"], (emoji, ack)
    refused = ["x", "lol", "👍👍", "👍x", "a👍", ":Caps:", "::", ":no spaces:", "<b>", "1"]
    for emoji in refused:
        ack = await a.call("react-message", {"messageId": sent["id"], "emoji": emoji})
        assert ack["error"]["code"] == "VALIDATION_ERROR", emoji
    status, body = await chat.api(
        "POST", f"/api/messages/{sent['id']}/reactions", bob, json={"emoji": "hello"}
    )
    assert (status, body["error"]["code"]) == (400, "VALIDATION_ERROR")
    status, body = await chat.api(
        "POST", f"/api/messages/{sent['id']}/reactions", bob, json={"emoji": "🎉"}
    )
    assert status == 200 and {r["emoji"] for r in body["reactions"]} >= {"🎉", "👍"}


async def test_status_offline_while_connected_is_invisible(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    room = await _room_with(chat, ann, bob)
    b = await chat.socket(bob)
    await b.wait_for("online-users")
    a1, a2 = await chat.socket(ann), await chat.socket(ann)
    await b.wait_for("user-online", lambda p: p["userId"] == ann.id)
    assert (await a1.call("user-status", {"status": "offline"}))["ok"]
    # Bob sees Ann go offline; Ann's other tab hears her own change.
    await b.wait_for("user-offline", lambda p: p["userId"] == ann.id)
    await a2.wait_for("user-status-update", lambda p: p["status"] == "offline")
    _, body = await chat.api("GET", f"/api/users/{ann.id}", bob)
    assert (body["user"]["online"], body["user"]["status"]) == (False, "offline")
    _, body = await chat.api("GET", "/api/users/online", bob)
    assert ann.id not in [u["id"] for u in body["users"]]
    ack = await b.call("room-presence", {"roomId": room["id"]})
    assert ann.id not in ack["userIds"]
    ack = await b.call("presence-subscribe", {"userIds": [ann.id]})
    assert ack["userIds"] == []
    # Her sockets still work: she sends, Bob receives.
    assert (await a1.call("send-message", {"roomId": room["id"], "text": "boo"}))["ok"]
    await b.wait_for("new-message", lambda m: m["text"] == "boo")
    # A new tab, and closing every tab, say nothing to Bob; a fresh socket of Bob's sees her
    # offline.
    a3 = await chat.socket(ann)
    await a3.wait_for("online-users")
    for peer in (a1, a2, a3):
        await peer.close()
    b2 = await chat.socket(bob)
    listed = await b2.wait_for("online-users")
    assert ann.id not in listed["userIds"]
    a4 = await chat.socket(ann)
    assert (await a4.call("user-status", {"status": "online"}))["ok"]
    # Visible again: Bob hears her come online and her status.
    await b.wait_for("user-online", lambda p: p["userId"] == ann.id and b.got("user-offline"))
    await b.wait_for("user-status-update", lambda p: p["status"] == "online")
    _, body = await chat.api("GET", f"/api/users/{ann.id}", bob)
    assert body["user"]["online"] is True
    online_events = [p for p in b.got("user-online") if p["userId"] == ann.id]
    offline_events = [p for p in b.got("user-offline") if p["userId"] == ann.id]
    assert (len(online_events), len(offline_events)) == (2, 1)
    assert not [p for p in b.got("user-status-update") if p["status"] == "offline"]

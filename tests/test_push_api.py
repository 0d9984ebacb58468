"""Web Push's edges: the key and subscription endpoints, where the VAPID key comes from, the
settings' checks, which endpoints the server will call, and the words of a push."""

from __future__ import annotations

import base64
import dataclasses
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chat.api.keys import SERVICES
from chat.domain import Attachment, Message, Room, User
from chat.outbound.guard import endpoint_problem
from chat.services.notifications.content import push_payload
from chat.services.notifications.vapid import KEY_FILE, load_vapid
from config.settings import Settings, SettingsError, load_settings
from tests.push_standin import Browser, unb64url

ENDPOINT = "http://127.0.0.1:9/push/v2/browser"  # loopback: accepted with PUSH_ALLOW_LOOPBACK


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A local push stand-in's loopback endpoints are accepted (PUSH_ALLOW_LOOPBACK=true)."""
    return dataclasses.replace(settings, push_allow_loopback=True)


async def test_the_key_and_the_subscription_api(chat):
    ann = await chat.user("Ann")
    assert (await chat.rest.get("/api/push/vapid-public-key")).status == 401
    status, body = await chat.api("GET", "/api/push/vapid-public-key", ann)
    assert status == 200 and set(body) == {"publicKey"}
    point = unb64url(body["publicKey"])
    assert len(point) == 65 and point[0] == 4  # what applicationServerKey takes
    good = Browser(ENDPOINT).subscription
    bad_bodies = [
        {**good, "endpoint": "http://push.example.com/x"},  # http only to loopback hosts
        {**good, "endpoint": "ftp://127.0.0.1/x"},
        {**good, "keys": {**good["keys"], "p256dh": good["keys"]["auth"]}},
        {**good, "keys": {**good["keys"], "auth": good["keys"]["p256dh"]}},
        {**good, "keys": {"p256dh": {"$gt": ""}, "auth": good["keys"]["auth"]}},
        {**good, "userId": ann.id},
        {"endpoint": good["endpoint"]},
    ]
    for bad in bad_bodies:
        status, body = await chat.api("POST", "/api/push/subscriptions", ann, json=bad)
        assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR", bad
    for _ in range(2):  # subscribing again is not an error
        status, _ = await chat.api("POST", "/api/push/subscriptions", ann, json=good)
        assert status == 201
    store = chat.server.app[SERVICES].notifications.store
    assert [s.endpoint for s in await store.push_subscriptions.of_user(ann.id)] == [ENDPOINT]
    for _ in range(2):  # and unsubscribing twice neither
        status, _ = await chat.api(
            "DELETE", "/api/push/subscriptions", ann, json={"endpoint": ENDPOINT}
        )
        assert status == 204
    assert await store.push_subscriptions.of_user(ann.id) == []


async def test_a_user_keeps_ten_subscriptions_and_an_endpoint_belongs_to_its_last_subscriber(chat):
    ann, bob = await chat.user("Ann"), await chat.user("Bob")
    for n in range(12):
        browser = Browser(f"{ENDPOINT}-{n}")
        status, _ = await chat.api(
            "POST", "/api/push/subscriptions", ann, json=browser.subscription
        )
        assert status == 201
    status, _ = await chat.api(
        "POST", "/api/push/subscriptions", bob, json=Browser(f"{ENDPOINT}-11").subscription
    )
    assert status == 201
    store = chat.server.app[SERVICES].notifications.store
    kept = [s.endpoint for s in await store.push_subscriptions.of_user(ann.id)]
    assert kept == [f"{ENDPOINT}-{n}" for n in range(10, 1, -1)]  # the newest ten, less Bob's
    assert [s.endpoint for s in await store.push_subscriptions.of_user(bob.id)] == [
        f"{ENDPOINT}-11"
    ]


async def test_production_without_a_key_has_push_off(make_client, captured):
    client = await make_client(env="production", vapid_private_key="")
    resp = await client.post(
        "/api/auth/register",
        json={"name": "Ann", "email": "ann-prod@example.com", "password": "correct horse battery"},
    )
    token = (await resp.json())["token"]
    auth = {"Authorization": f"Bearer {token}"}
    resp = await client.get("/api/push/vapid-public-key", headers=auth)
    assert resp.status == 404
    sub = Browser("https://push.example.com/x").subscription
    assert (await client.post("/api/push/subscriptions", json=sub, headers=auth)).status == 404
    said = [r for r in captured.records if "Web Push is off" in r.getMessage()]
    assert len(said) == 1


def _pem(key: ec.EllipticCurvePrivateKey, fmt: serialization.PrivateFormat) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def test_the_vapid_key_from_the_setting_or_kept_under_data_dir(settings, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    raw = base64.urlsafe_b64encode(key.private_numbers().private_value.to_bytes(32, "big"))
    public = load_vapid(dataclasses.replace(settings, vapid_private_key=raw.decode().rstrip("=")))
    for text in (
        _pem(key, serialization.PrivateFormat.PKCS8),
        _pem(key, serialization.PrivateFormat.TraditionalOpenSSL).replace("\n", "\\n"),
    ):
        loaded = load_vapid(dataclasses.replace(settings, vapid_private_key=text))
        assert loaded is not None and public is not None
        assert loaded.public_key == public.public_key
    for bad in (
        "not a key",
        _pem(ec.generate_private_key(ec.SECP384R1()), serialization.PrivateFormat.PKCS8),
    ):
        with pytest.raises(SettingsError):
            load_vapid(dataclasses.replace(settings, vapid_private_key=bad))
    assert load_vapid(dataclasses.replace(settings, env="production")) is None
    here = dataclasses.replace(settings, data_dir=tmp_path / "data")
    first, again = load_vapid(here), load_vapid(here)
    assert first is not None and again is not None and first.public_key == again.public_key
    assert os.stat(tmp_path / "data" / KEY_FILE).st_mode & 0o777 == 0o600


def test_the_settings_refuse_a_bad_subject_and_an_unsigned_webhook():
    for bad in (
        {"VAPID_SUBJECT": "admin@example.com"},
        {"NOTIFY_WEBHOOK_URL": "https://hooks.example.com/chat"},
        {"NOTIFY_WEBHOOK_URL": "https://hooks.example.com/chat", "NOTIFY_WEBHOOK_SECRET": "short"},
        {"NOTIFY_WEBHOOK_URL": "ftp://hooks.example.com", "NOTIFY_WEBHOOK_SECRET": "s" * 20},
    ):
        with pytest.raises(SettingsError):
            load_settings(bad, env_file=None)
    good = load_settings(
        {"NOTIFY_WEBHOOK_URL": "https://hooks.example.com/chat", "NOTIFY_WEBHOOK_SECRET": "s" * 20},
        env_file=None,
    )
    assert good.notify_webhook_url == "https://hooks.example.com/chat"
    assert good.vapid_subject == "mailto:admin@localhost"


def test_which_endpoints_the_server_will_call():
    public = "https://fcm.googleapis.com/fcm/send/abc"
    assert endpoint_problem(public) is None
    assert endpoint_problem("https://[2a00:1450:4001::1]/push") is None
    internal = (
        "https://10.1.2.3/push",
        "https://169.254.169.254/latest",  # cloud metadata
        "https://0.0.0.0/push",
        "https://[fd00::1]/push",
        "https://[::ffff:10.0.0.1]/push",
        # Python 3.11 calls these global, yet each carries an IPv4 address (here a private one).
        "https://[64:ff9b::a00:1]/push",  # NAT64
        "https://[64:ff9b:1::a00:1]/push",  # local-use NAT64
        "https://[2002:a00:1::1]/push",  # 6to4
        "https://[::10.0.0.1]/push",  # IPv4-compatible
        "https://user:pw@push.example.com/x",
        "http://push.example.com/x",
        "ftp://127.0.0.1/x",
    )
    loopback = (
        "http://127.0.0.1:8000/push",
        "https://127.0.0.1/push",
        "https://localhost/push",
        "https://localhost./push",
        "https://push.localhost/push",
        "https://[::1]/push",
    )
    for url in internal + loopback:  # the default, in every environment
        assert endpoint_problem(url) is not None, url
    for url in internal:  # a local stand-in opens loopback only
        assert endpoint_problem(url, allow_loopback=True) is not None, url
    for url in loopback:
        assert endpoint_problem(url, allow_loopback=True) is None, url


async def test_without_push_allow_loopback_a_loopback_endpoint_is_refused(make_client):
    client = await make_client(push_allow_loopback=False)
    resp = await client.post(
        "/api/auth/register",
        json={"name": "Ann", "email": "ann-guard@example.com", "password": "correct horse battery"},
    )
    auth = {"Authorization": f"Bearer {(await resp.json())['token']}"}
    sub = Browser(ENDPOINT).subscription
    resp = await client.post("/api/push/subscriptions", json=sub, headers=auth)
    assert resp.status == 400
    assert "endpoint" in (await resp.json())["error"]["details"]["fields"]


def test_push_allow_loopback_is_a_development_setting(tmp_path):
    here = {"DATA_DIR": str(tmp_path)}
    assert load_settings({**here, "PUSH_ALLOW_LOOPBACK": "true"}, env_file=None).push_allow_loopback
    assert not load_settings(here, env_file=None).push_allow_loopback  # off by default
    production = {"CHAT_ENV": "production", "JWT_SECRET": "s" * 40}
    assert not load_settings(production, env_file=None).push_allow_loopback
    with pytest.raises(SettingsError, match="PUSH_ALLOW_LOOPBACK"):
        load_settings({**production, "PUSH_ALLOW_LOOPBACK": "true"}, env_file=None)


def test_what_a_push_says():
    ann = User("a" * 24, "Ann", "ann@example.com", "", 0)
    group = Room("r" * 24, "public", "Design", "a" * 24, 0, 0)
    direct = dataclasses.replace(group, type="direct", name="")
    photo = Attachment("u", "p.png", "image/png", 10, "k", "local")
    image = Message("m" * 24, group.id, ann.id, "image", "", seq=3, attachments=[photo])
    assert push_payload(image, ann, group)["body"] == "Ann: Photo"
    file = dataclasses.replace(image, type="file")
    assert push_payload(file, ann, group)["body"] == "Ann: File"
    text = dataclasses.replace(image, type="text", text="  hi\n\nthere ", attachments=[])
    said = push_payload(text, None, direct)
    assert (said["title"], said["body"]) == ("Deleted user", "Deleted user: hi there")
    assert push_payload(text, ann, group)["title"] == "Design"

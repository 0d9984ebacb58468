"""A loopback Web Push service that checks what a real one checks (RFC 8030, 8291, 8292), and a
browser's side of a subscription that decrypts what arrives.

The service refuses, as FCM, Mozilla's autopush and Apple's do, a request without a valid
`Authorization: vapid t=<JWT>, k=<key>` (an ES256 signature made with the `k=` key, `aud` the
endpoint's origin, `exp` in the future and at most 24 hours ahead, a `sub`), without
`Content-Encoding: aes128gcm`, without a `TTL`, or with a body over 4096 bytes. It answers 201
with a Location, or the status a test gave the endpoint (410 or 404: gone)."""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from multidict import CIMultiDict

from chat.store.embedded import free_port

MAX_BODY = 4096  # RFC 8030 section 7.2: a push service must accept at least this much
URGENCIES = ("very-low", "low", "normal", "high")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """A subscription's key pair and auth secret, made as a browser makes them."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def subscription(self) -> dict[str, Any]:
        """What PushSubscription.toJSON() gives."""
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> dict[str, Any]:
        """The payload, decrypted as the browser would (aes128gcm, RFC 8291)."""
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


@dataclass
class Push:
    name: str  # the endpoint's last path segment
    body: bytes
    headers: CIMultiDict[str]  # names in any case, as HTTP has them
    claims: dict[str, Any]


def _verify_vapid(header: str, origin: str) -> dict[str, Any]:
    """The JWT's claims, or AssertionError saying what a push service would refuse."""
    scheme, _, rest = header.partition(" ")
    assert scheme.lower() == "vapid", f"Authorization scheme {scheme!r}, not vapid"
    params = dict(p.strip().split("=", 1) for p in rest.split(",") if "=" in p)
    assert "t" in params and "k" in params, "vapid needs t= and k="
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(params["k"]))
    head, claims, signature = params["t"].split(".")
    assert json.loads(unb64url(head)).get("alg") == "ES256", "JWT alg is not ES256"
    raw = unb64url(signature)
    assert len(raw) == 64, "ES256 signature is not 64 bytes (r || s)"
    der = utils.encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    try:
        public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AssertionError("JWT signature does not verify with the k= key") from None
    payload: dict[str, Any] = json.loads(unb64url(claims))
    assert payload.get("aud") == origin, f"aud {payload.get('aud')!r} is not {origin!r}"
    now = time.time()
    assert now < int(payload["exp"]) <= now + 24 * 3600, "exp not within the next 24 hours"
    assert str(payload.get("sub", "")).startswith(("mailto:", "https:")), "sub missing"
    return payload


class PushService:
    """The stand-in. `endpoint(name)` is a subscription's URL; `gone[name] = 410` makes it
    answer that; `pushes` and `refused` record what came."""

    def __init__(self) -> None:
        self.pushes: list[Push] = []
        self.refused: list[str] = []
        self.gone: dict[str, int] = {}
        self.runner: web.AppRunner | None = None
        self.port = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/v2/{name}"

    def to(self, name: str) -> list[Push]:
        return [p for p in self.pushes if p.name == name]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/push/v2/{name}", self._receive)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        self.port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        try:
            claims = _verify_vapid(request.headers.get("Authorization", ""), self.origin)
        except (AssertionError, ValueError, KeyError) as exc:
            return self._refuse(name, 401, f"VAPID: {exc}")
        problem = _content_problem(request, body)
        if problem is not None:
            return self._refuse(name, 400, problem)
        status = self.gone.get(name, 201)
        if status == 201:
            self.pushes.append(Push(name, body, CIMultiDict(request.headers), claims))
            return web.Response(status=201, headers={"Location": f"/m/{len(self.pushes)}"})
        return web.Response(status=status)

    def _refuse(self, name: str, status: int, reason: str) -> web.Response:
        self.refused.append(f"{name}: {reason}")
        return web.Response(status=status, text=reason)


def _content_problem(request: web.Request, body: bytes) -> str | None:
    if request.headers.get("Content-Encoding") != "aes128gcm":
        return "Content-Encoding is not aes128gcm"
    if not request.headers.get("TTL", "").isdigit():
        return "no TTL header"
    if request.headers.get("Urgency", "normal") not in URGENCIES:
        return "bad Urgency"
    if not 0 < len(body) <= MAX_BODY:
        return f"a body of {len(body)} bytes"
    return None


@dataclass
class Call:
    body: bytes
    headers: CIMultiDict[str]  # names in any case, as HTTP has them


class WebhookReceiver:
    """A team's notification webhook: answers each call with the next of `statuses` (then 200)
    and records every call."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.calls: list[Call] = []
        self.runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/chat"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/chat", self._receive)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        self.port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        self.calls.append(Call(await request.read(), CIMultiDict(request.headers)))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

"""Web Push delivery: pywebpush encrypts (aes128gcm, RFC 8291), we sign (VAPID, RFC 8292) and POST
through our own Outbound client: no redirects followed, the answer's body never read, a name that
resolves to no public address refused for good (pywebpush's own sending reads the whole body and
follows redirects, so one hostile endpoint could hold a worker for the whole timeout).

The VAPID JWT is signed once per push service origin and reused for an hour (it is valid for
12): signing is a fifth of a push's CPU, and a message to a busy room goes to many browsers
behind the same few push services.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from py_vapid import Vapid
from pywebpush import WebPusher, WebPushException

from chat.outbound.http import Outbound, Unreachable

JWT_LIFETIME = 12 * 3600  # RFC 8292: at most 24 hours
JWT_REUSE = 3600  # re-signed this often, so a push never carries a JWT about to expire


def origin(url: str) -> str:
    """`scheme://host[:port]`: a push service, and the `aud` of its VAPID JWT."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True, slots=True)
class PushTarget:
    """A browser's subscription as PushSubscription.toJSON() gives it (keys in base64url)."""

    endpoint: str
    p256dh: str
    auth: str


class WebPushClient:
    """Encrypts a payload for one subscription (a fresh ephemeral key each time), adds the VAPID
    header, and POSTs it on the shared session (`http`: an untrusted Outbound)."""

    def __init__(self, http: Outbound, vapid: Vapid, subject: str) -> None:
        self.http = http
        self.vapid = vapid
        self.subject = subject
        self._signed: dict[str, tuple[float, dict[str, str]]] = {}

    def vapid_headers(self, endpoint: str) -> dict[str, str]:
        audience = origin(endpoint)
        now = time.time()
        cached = self._signed.get(audience)
        if cached is None or now - cached[0] > JWT_REUSE:
            claims = {"sub": self.subject, "aud": audience, "exp": int(now) + JWT_LIFETIME}
            if len(self._signed) > 1000:  # push services are few; this bounds a flood of hosts
                self._signed.clear()
            cached = self._signed[audience] = (now, dict(self.vapid.sign(claims)))
        return cached[1]

    async def send(self, target: PushTarget, data: bytes, *, ttl: int, urgency: str) -> int:
        """The push service's status (201 when accepted). Raises Unreachable."""
        info = {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}}
        try:
            body = WebPusher(info).encode(data, "aes128gcm")["body"]
        except (WebPushException, ValueError) as exc:  # a subscription we cannot encrypt for
            raise Unreachable(
                f"cannot encrypt for this subscription: {exc}", permanent=True
            ) from None
        headers = {
            **self.vapid_headers(target.endpoint),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(ttl),
            "Urgency": urgency,
        }
        return await self.http.post(target.endpoint, body, headers)

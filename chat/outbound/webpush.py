"""Web Push delivery through pywebpush's aiohttp path: VAPID (RFC 8292) and aes128gcm (RFC 8291)."""

from __future__ import annotations

from dataclasses import dataclass

from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from chat.outbound.guard import Refused
from chat.outbound.http import NETWORK_ERRORS, Outbound, Unreachable


@dataclass(frozen=True, slots=True)
class PushTarget:
    """A browser's subscription as PushSubscription.toJSON() gives it (keys in base64url)."""

    endpoint: str
    p256dh: str
    auth: str


class WebPushClient:
    """Encrypts a payload for one subscription, signs the VAPID claims and POSTs it."""

    def __init__(self, http: Outbound, vapid: Vapid, subject: str) -> None:
        self.http = http
        self.vapid = vapid
        self.subject = subject

    async def send(self, target: PushTarget, data: bytes, *, ttl: int, urgency: str) -> int:
        """The push service's status (201 when accepted). Raises Unreachable."""
        info = {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}}
        try:
            resp = await webpush_async(
                info,
                data=data,  # bytes are taken as they are
                vapid_private_key=self.vapid,
                # A new dict each time: pywebpush writes `aud` and `exp` (12 h ahead) into it.
                vapid_claims={"sub": self.subject},
                content_encoding="aes128gcm",
                ttl=ttl,
                timeout=self.http.timeout.total,
                headers={"Urgency": urgency},
                aiohttp_session=self.http.session(),
            )
        except WebPushException as exc:  # any answer above 202
            if exc.status_code is None:
                raise Unreachable(exc.message) from None
            return int(exc.status_code)
        except Refused as exc:
            raise Unreachable(str(exc), permanent=True) from None
        except NETWORK_ERRORS as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from None
        return int(resp.status)  # a ClientResponse: a str only with curl=True

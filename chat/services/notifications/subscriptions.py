"""The Web Push subscriptions a browser registers, checked before they are kept."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from chat.errors import NotFound, ValidationFailed
from chat.outbound.guard import endpoint_problem
from chat.services.notifications.vapid import b64url_decode
from chat.store import Store

SUBSCRIPTIONS_PER_USER = 10  # browsers and devices; past it the least recently subscribed go


class PushSubscriptions:
    def __init__(self, store: Store, public_key: str | None, *, allow_loopback: bool) -> None:
        self.store = store
        self._public_key = public_key
        self.allow_loopback = allow_loopback  # PUSH_ALLOW_LOOPBACK: a local push stand-in

    def public_key(self) -> str:
        if self._public_key is None:
            raise NotFound("Web Push is not enabled on this server")
        return self._public_key

    async def subscribe(
        self, user_id: str, endpoint: str, p256dh: str, auth: str, *, session_id: str
    ) -> None:
        """Keep the subscription (the endpoint moves to this user if another had it), bound to
        the session that made it: it ends with that session (services/sessions.py)."""
        self.public_key()  # 404 when Web Push is off
        problems: dict[str, list[str]] = {}
        problem = endpoint_problem(endpoint, allow_loopback=self.allow_loopback)
        if problem is not None:
            problems["endpoint"] = [f"The endpoint {problem}."]
        if not _p256_point(p256dh):
            problems["keys"] = ["p256dh must be an uncompressed P-256 point (base64url)."]
        elif len(_decoded(auth)) != 16:
            problems["keys"] = ["auth must be 16 bytes (base64url)."]
        if problems:
            raise ValidationFailed("Invalid push subscription", {"fields": problems})
        await self.store.push_subscriptions.save(
            user_id, endpoint, p256dh, auth, keep=SUBSCRIPTIONS_PER_USER, session_id=session_id
        )

    async def unsubscribe(self, user_id: str, endpoint: str) -> None:
        """Idempotent: an endpoint the user does not have is not an error."""
        await self.store.push_subscriptions.remove(user_id, endpoint)


def _decoded(text: str) -> bytes:
    try:
        return b64url_decode(text)
    except ValueError:
        return b""


def _p256_point(text: str) -> bool:
    raw = _decoded(text)
    if len(raw) != 65 or raw[0] != 4:
        return False
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return False
    return True

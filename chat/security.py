"""Password hashing (SHA-256 pre-hash, then bcrypt, off the event loop), HS256 session tokens,
and what both doors (REST and Socket.IO) check the same way: where a request's session token is
and whether its Origin is allowed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

import bcrypt
import jwt

from chat.errors import Unauthorized

ALGORITHM = "HS256"


def _prehash(password: str) -> bytes:
    # bcrypt reads only 72 bytes: hashing first keeps every character significant, and base64
    # keeps NUL bytes (which bcrypt would stop at) out of its input.
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


class PasswordHasher:
    """bcrypt with a fixed cost; every call runs in a worker thread."""

    def __init__(self, rounds: int = 12):
        self.rounds = rounds
        # Verified against when an email is unknown, so both answers take the same time.
        self._dummy = bcrypt.hashpw(_prehash(secrets.token_hex(16)), bcrypt.gensalt(rounds))

    async def hash(self, password: str) -> str:
        salt = bcrypt.gensalt(self.rounds)
        digest = await asyncio.to_thread(bcrypt.hashpw, _prehash(password), salt)
        return digest.decode("ascii")

    async def verify(self, password: str, hashed: str | None) -> bool:
        target = hashed.encode("ascii") if hashed else self._dummy
        ok = await asyncio.to_thread(bcrypt.checkpw, _prehash(password), target)
        return ok and hashed is not None


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    session_id: str
    expires_at: float


class TokenCodec:
    """Signs and checks session tokens: HS256 pinned, `exp`, `sub` and `sid` required."""

    def __init__(self, secret: str, lifetime_seconds: int):
        self._secret = secret
        self.lifetime = lifetime_seconds

    def encode(self, user_id: str, session_id: str, expires_at: float | None = None) -> str:
        now = int(time.time())
        exp = int(expires_at) if expires_at is not None else now + self.lifetime
        payload = {"sub": user_id, "sid": session_id, "iat": now, "exp": exp}
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "sub", "sid"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Session expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("Invalid token") from None
        sub, sid = payload.get("sub"), payload.get("sid")
        if not isinstance(sub, str) or not isinstance(sid, str):
            raise Unauthorized("Invalid token")
        return TokenClaims(user_id=sub, session_id=sid, expires_at=float(payload["exp"]))


def random_code(nbytes: int = 18) -> str:
    """A URL-safe random string of `nbytes` random bytes (18 bytes = 144 bits)."""
    return secrets.token_urlsafe(nbytes)


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def session_token(auth_token: object, authorization: str | None, cookie: str | None) -> str | None:
    """The one precedence for a session token: the Socket.IO handshake's `auth.token` (what mobile
    and JS clients send; REST has none), then `Authorization: Bearer`, then the session cookie."""
    if isinstance(auth_token, str) and auth_token:
        return auth_token
    return bearer(authorization) or cookie or None


def origin_allowed(origin: str | None, own_origin: str, allowed: Iterable[str]) -> bool:
    """An Origin is allowed when it is one of CLIENT_URL's, or this server's own."""
    return origin is not None and (origin == own_origin or origin in allowed)

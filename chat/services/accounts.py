"""Accounts: register, sign in and out, refresh, change password, and check a session token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chat.errors import Unauthorized
from chat.security import PasswordHasher, TokenCodec
from chat.services.batching import BatchLoader
from chat.services.events import Publisher
from chat.store import Store, new_id, now_ms, utcnow

Doc = dict[str, Any]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, the session their token belongs to, and when the token ends."""

    user: Doc
    session_id: str
    expires_at: float

    @property
    def user_id(self) -> str:
        return self.user["_id"]


@dataclass(frozen=True)
class SignedIn:
    user: Doc
    token: str
    session_id: str


class AccountService:
    def __init__(
        self, store: Store, hasher: PasswordHasher, tokens: TokenCodec, publisher: Publisher
    ):
        self.store = store
        self.hasher = hasher
        self.tokens = tokens
        self.publisher = publisher
        # Every socket handshake and REST request authenticates: concurrent ones share queries.
        self._sessions: BatchLoader[str, Doc] = BatchLoader(self._sessions_by_id)
        self._users: BatchLoader[str, Doc] = BatchLoader(self._users_by_id)

    async def _sessions_by_id(self, ids: list[str]) -> dict[str, Doc]:
        return {d["_id"]: d for d in await self.store.sessions.many(ids)}

    async def _users_by_id(self, ids: list[str]) -> dict[str, Doc]:
        return {d["_id"]: d for d in await self.store.users.many(ids)}

    async def _open_session(self, user: Doc) -> SignedIn:
        expires = datetime.fromtimestamp(utcnow().timestamp() + self.tokens.lifetime, UTC)
        session = await self.store.sessions.create(user["_id"], expires)
        token = self.tokens.encode(user["_id"], session["_id"], expires.timestamp())
        return SignedIn(user=user, token=token, session_id=session["_id"])

    async def register(self, name: str, email: str, password: str) -> SignedIn:
        now = now_ms()
        user = {
            "_id": new_id(),
            "name": name,
            "nameKey": name.lower(),
            "email": email.lower(),
            "passwordHash": await self.hasher.hash(password),
            "avatarUrl": None,
            "bio": "",
            "status": "online",
            "lastSeen": now,
            "createdAt": now,
        }
        await self.store.users.insert(user)
        return await self._open_session(user)

    async def login(self, email: str, password: str) -> SignedIn:
        user = await self.store.users.by_email(email.lower())
        # Verify even when the email is unknown (against a dummy hash): same work, same time.
        ok = await self.hasher.verify(password, user["passwordHash"] if user else None)
        if not user or not ok:
            raise Unauthorized("Invalid email or password")
        return await self._open_session(user)

    async def authenticate(self, token: str | None) -> Principal:
        """The principal behind a token, or Unauthorized if it is bad, expired or revoked."""
        if not token:
            raise Unauthorized()
        claims = self.tokens.decode(token)
        session = await self._sessions.load(claims.session_id)
        if session is None or session["userId"] != claims.user_id:
            raise Unauthorized("Session expired")
        if session["expiresAt"].timestamp() <= utcnow().timestamp():
            raise Unauthorized("Session expired")
        user = await self._users.load(claims.user_id)
        if user is None:
            raise Unauthorized("Session expired")
        return Principal(user=user, session_id=claims.session_id, expires_at=claims.expires_at)

    async def logout(self, principal: Principal) -> None:
        await self.store.sessions.delete(principal.session_id)
        await self.publisher.end_sessions([principal.session_id], "logout")

    async def refresh(self, principal: Principal) -> str:
        expires = utcnow().timestamp() + self.tokens.lifetime
        if not await self.store.sessions.extend(
            principal.session_id, datetime.fromtimestamp(expires, UTC)
        ):
            raise Unauthorized("Session expired")
        return self.tokens.encode(principal.user_id, principal.session_id, expires)

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        if not await self.hasher.verify(current, principal.user["passwordHash"]):
            raise Unauthorized("Current password is incorrect")
        hashed = await self.hasher.hash(new)
        await self.store.users.update(principal.user_id, {"passwordHash": hashed})
        revoked = await self.store.sessions.delete_others(principal.user_id, principal.session_id)
        await self.publisher.end_sessions(revoked, "password-changed")

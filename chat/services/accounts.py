"""Accounts: register, sign in and out, refresh, change password, and check a session token."""

from __future__ import annotations

from dataclasses import dataclass

from chat.domain import Session, User
from chat.errors import Conflict, Forbidden, Unauthorized
from chat.ratelimit import RateLimiter
from chat.security import PasswordHasher, TokenCodec
from chat.services.batching import BatchLoader
from chat.services.events import Publisher
from chat.services.sessions import end_session, end_sessions
from chat.store import Store, now_ms
from chat.store.base import Duplicate


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, the session their token belongs to, and when the token ends."""

    user: User
    session_id: str
    expires_at: float  # the token's `exp`: epoch seconds

    @property
    def user_id(self) -> str:
        return self.user.id


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str
    session_id: str

    @property
    def user_id(self) -> str:
        return self.user.id


class AccountService:
    def __init__(
        self,
        store: Store,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        publisher: Publisher,
        limiter: RateLimiter,
    ):
        self.store = store
        self.hasher = hasher
        self.tokens = tokens
        self.publisher = publisher
        self.limiter = limiter
        # Every socket handshake and REST request authenticates: concurrent ones share queries.
        self._sessions: BatchLoader[str, Session] = BatchLoader(self._sessions_by_id)
        self._users: BatchLoader[str, User] = BatchLoader(self._users_by_id)

    async def _sessions_by_id(self, ids: list[str]) -> dict[str, Session]:
        return {s.id: s for s in await self.store.sessions.many(ids)}

    async def _users_by_id(self, ids: list[str]) -> dict[str, User]:
        return {u.id: u for u in await self.store.users.many(ids)}

    def _expiry(self) -> int:
        return now_ms() + self.tokens.lifetime * 1000

    async def _open_session(self, user: User) -> SignedIn:
        session = await self.store.sessions.create(user.id, self._expiry())
        token = self.tokens.encode(user.id, session.id, session.expires_at / 1000)
        return SignedIn(user=user, token=token, session_id=session.id)

    async def register(self, name: str, email: str, password: str) -> SignedIn:
        hashed = await self.hasher.hash(password)
        try:
            user = await self.store.users.insert(name, email.lower(), hashed)
        except Duplicate:
            raise Conflict("Email already registered") from None
        return await self._open_session(user)

    async def login(self, email: str, password: str) -> SignedIn:
        # Per account as well as per address (the middleware): guessing one account's password
        # from many addresses is stopped too. Only failures count, so its owner is never slowed.
        account = email.strip().lower()
        await self.limiter.check("login_account", account)
        user = await self.store.users.by_email(email.lower())
        # Verify even when the email is unknown (against a dummy hash): same work, same time.
        ok = await self.hasher.verify(password, user.password_hash if user else None)
        if user is None or not ok:
            await self.limiter.hit("login_account", account)
            raise Unauthorized("Invalid email or password")
        if user.disabled:  # said only to whoever knows the password
            raise Forbidden("This account is disabled")
        return await self._open_session(user)

    async def authenticate(self, token: str | None) -> Principal:
        """The principal behind a token, or Unauthorized if it is bad, expired or revoked."""
        if not token:
            raise Unauthorized()
        claims = self.tokens.decode(token)
        session = await self._sessions.load(claims.session_id)
        if session is None or session.user_id != claims.user_id:
            raise Unauthorized("Session expired")
        if session.expires_at <= now_ms():
            raise Unauthorized("Session expired")
        user = await self._users.load(claims.user_id)
        if user is None or user.disabled:  # (a disabled account's sessions are gone anyway)
            raise Unauthorized("Session expired")
        return Principal(user=user, session_id=claims.session_id, expires_at=claims.expires_at)

    async def still_signed_in(self, principal: Principal) -> bool:
        """Whether the principal's session lives now (read afresh, not from the batch)."""
        return await self.store.sessions.get(principal.session_id) is not None

    async def logout(self, principal: Principal) -> None:
        """End this session: its token, its sockets and its browser's push subscriptions."""
        await end_session(
            self.store, self.publisher, principal.user_id, principal.session_id, "logout"
        )

    async def refresh(self, principal: Principal) -> str:
        expires = self._expiry()
        if not await self.store.sessions.extend(principal.session_id, expires):
            raise Unauthorized("Session expired")
        return self.tokens.encode(principal.user_id, principal.session_id, expires / 1000)

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        if not await self.hasher.verify(current, principal.user.password_hash):
            raise Unauthorized("Current password is incorrect")
        hashed = await self.hasher.hash(new)
        await self.store.users.update(principal.user_id, password_hash=hashed)
        await end_sessions(
            self.store, self.publisher, principal.user_id, "password-changed",
            keep=principal.session_id,
        )  # fmt: skip

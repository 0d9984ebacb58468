"""The REST door's request budget (socket events have their own limits): per user for signed-in
calls, so people behind one address (an office, a school, a mobile carrier's NAT) do not share a
budget, and per client address for anonymous ones."""

from __future__ import annotations

from chat.errors import Unauthorized
from chat.ratelimit import RateLimiter
from chat.security import TokenCodec


class RequestThrottle:
    """`RATE_LIMIT_API` for API requests, the tighter `RATE_LIMIT_AUTH` for sign-in and sign-up:
    each raises RateLimited when its caller is over the budget."""

    def __init__(self, limiter: RateLimiter, tokens: TokenCodec | None = None) -> None:
        self._limiter = limiter
        self._tokens = tokens

    async def api_request(self, address: str, token: str | None = None) -> None:
        """Count a request against its user's budget when `token` is one this server signed
        (checked without the database: the request itself then checks the session), else
        against its address's."""
        user_id = self._signer(token)
        if user_id is not None:
            await self._limiter.hit("api", "user", user_id)
        else:
            await self._limiter.hit("api", address)

    async def sign_in_attempt(self, address: str) -> None:
        await self._limiter.hit("auth", address)

    def _signer(self, token: str | None) -> str | None:
        if not token or self._tokens is None:
            return None
        try:
            return self._tokens.decode(token).user_id
        except Unauthorized:
            return None

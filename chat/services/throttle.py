"""The REST door's request budget per client address (socket events have their own limits)."""

from __future__ import annotations

from chat.ratelimit import RateLimiter


class RequestThrottle:
    """`RATE_LIMIT_API` for API requests, the tighter `RATE_LIMIT_AUTH` for sign-in and sign-up:
    each raises RateLimited when the address is over its budget."""

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter

    async def api_request(self, address: str) -> None:
        await self._limiter.hit("api", address)

    async def sign_in_attempt(self, address: str) -> None:
        await self._limiter.hit("auth", address)

"""One kept-alive aiohttp client session per kind of destination, and a plain POST on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aiohttp

from chat import __version__
from chat.outbound.guard import PublicResolver, Refused, hop_guard


class Unreachable(Exception):
    """No HTTP answer: the connection failed or timed out (worth another try), or the guard
    refused the address (`permanent`: it always will)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)
CONNECT_TIMEOUT = 3.0  # seconds to resolve the name and connect; a push service does it in ms


def refused(exc: BaseException) -> bool:
    """Whether the guard refused the request. aiohttp wraps the refusal: the resolver's in a
    ClientConnectorDNSError, the middleware's in a ClientOSError."""
    if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(exc.os_error, Refused):
        return True
    return isinstance(exc, Refused) or isinstance(exc.__cause__, Refused)


class Outbound:
    """A client session made on first use (inside the running loop) and closed by `close()`.
    `untrusted`: the URLs come from users (push endpoints), so every request passes the guard
    (chat/outbound/guard.py), its name is resolved to public addresses only, and loopback hosts
    are called only with `allow_loopback`."""

    def __init__(
        self, *, timeout: float, untrusted: bool = False, allow_loopback: bool = False
    ) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, CONNECT_TIMEOUT))
        self.untrusted = untrusted
        self.allow_loopback = allow_loopback
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            middlewares: Sequence[aiohttp.ClientMiddlewareType] = ()
            connector = None
            if self.untrusted:
                middlewares = (hop_guard(allow_loopback=self.allow_loopback),)
                resolver = PublicResolver(allow_loopback=self.allow_loopback)
                connector = aiohttp.TCPConnector(resolver=resolver)
            self._session = aiohttp.ClientSession(
                timeout=self.timeout,
                headers={"User-Agent": f"chat/{__version__}"},
                connector=connector,
                middlewares=middlewares,
            )
        return self._session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST without following redirects; the answer's status, its body left unread (the
        connection is closed rather than drained). Raises Unreachable."""
        try:
            async with self.session().post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as resp:
                return resp.status
        except NETWORK_ERRORS as exc:
            if refused(exc):
                raise Unreachable(f"{exc}", permanent=True) from None
            raise Unreachable(f"{type(exc).__name__}: {exc}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

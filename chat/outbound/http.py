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


class Outbound:
    """A client session made on first use (inside the running loop) and closed by `close()`.
    `untrusted`: the URLs come from users (push endpoints), so every hop passes the guard."""

    def __init__(self, *, timeout: float, untrusted: bool = False, production: bool = False):
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.untrusted = untrusted
        self.production = production
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            middlewares: Sequence[aiohttp.ClientMiddlewareType] = ()
            connector = None
            if self.untrusted:
                middlewares = (hop_guard(self.production),)
                if self.production:
                    connector = aiohttp.TCPConnector(resolver=PublicResolver())
            self._session = aiohttp.ClientSession(
                timeout=self.timeout,
                headers={"User-Agent": f"chat/{__version__}"},
                connector=connector,
                middlewares=middlewares,
            )
        return self._session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST without following redirects; the answer's status. Raises Unreachable."""
        try:
            async with self.session().post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as resp:
                return resp.status
        except Refused as exc:
            raise Unreachable(str(exc), permanent=True) from None
        except NETWORK_ERRORS as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

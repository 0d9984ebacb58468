"""Which URLs the server may be made to call on a user's behalf (push endpoints): no request
forgery against the server's own network, in every environment.

A push endpoint comes from the browser, so from whoever holds the account: only https to public
hosts is called, every request checked (redirects are not followed; were one followed, its hop
would be checked too), and a name that resolves to no public address is refused at connection
time. `allow_loopback` (PUSH_ALLOW_LOOPBACK, which production refuses) lets http and https reach
loopback hosts too, for a local push-service stand-in; private, link-local and other internal
addresses stay refused.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp import ClientHandlerType, ClientMiddlewareType, ClientRequest, ClientResponse
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
LOOPBACK_NAMES = ("localhost",)
# IPv6 ranges that carry an IPv4 address, which Python 3.11 calls global whatever that address
# is: through them a public-looking name could reach 127.0.0.1 or 10.0.0.1 behind a translator.
EMBEDDING_IPV4 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "64:ff9b::/96",  # NAT64 (RFC 6052)
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "2002::/16",  # 6to4
        "::/96",  # IPv4-compatible (deprecated)
    )
)


class Refused(OSError):
    """A request the guard would not send (an OSError, so callers treat it as unreachable)."""


def _address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def public(address: Address) -> bool:
    """Globally routable, and not an IPv4 address in IPv6 clothing (mapped: judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return public(address.ipv4_mapped)
        if any(address in net for net in EMBEDDING_IPV4):
            return False
    return address.is_global


def permitted(address: Address, *, allow_loopback: bool) -> bool:
    return public(address) or (allow_loopback and address.is_loopback)


def _loopback(host: str) -> bool:
    address = _address(host)
    if address is not None:
        return address.is_loopback
    return host in LOOPBACK_NAMES or host.endswith(".localhost")


def endpoint_problem(url: str, *, allow_loopback: bool = False) -> str | None:
    """Why the server will not call `url`, or None when it will."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")  # `localhost.` is localhost
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "not a valid URL"
    if not host or parts.username is not None or parts.password is not None:
        return "needs a host and no credentials"
    if allow_loopback and _loopback(host) and parts.scheme in ("http", "https"):
        return None
    if parts.scheme != "https":
        return "must be an https URL"
    address = _address(host)
    if _loopback(host) or (address is not None and not public(address)):
        return "must be a public host"
    return None


def hop_guard(*, allow_loopback: bool = False) -> ClientMiddlewareType:
    """A client middleware checking every request, redirects included, against the rule."""

    async def guard(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        problem = endpoint_problem(str(request.url), allow_loopback=allow_loopback)
        if problem is not None:
            raise Refused(f"refused to call {request.url.host}: {problem}")
        return await handler(request)

    return guard


class PublicResolver(AbstractResolver):
    """Resolves names as usual, keeping only public addresses (and loopback ones when
    `allow_loopback`); a name left with none is Refused."""

    def __init__(self, *, allow_loopback: bool = False) -> None:
        self._resolver = DefaultResolver()
        self.allow_loopback = allow_loopback

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        usable = [
            r
            for r in found
            if permitted(ipaddress.ip_address(r["host"]), allow_loopback=self.allow_loopback)
        ]
        if not usable:
            raise Refused(f"refused to call {host}: it resolves to no public address")
        return usable

    async def close(self) -> None:
        await self._resolver.close()

"""Which URLs the server may be made to call on a user's behalf (push endpoints): no request
forgery against the server's own network.

A push endpoint comes from the browser, so from whoever holds the account: in production only
https to public hosts is called, every redirect hop included, and a name that resolves to a
private, loopback or link-local address is refused at connection time. Outside production,
plain http to a loopback host is allowed too (a local push-service stand-in).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp import ClientHandlerType, ClientMiddlewareType, ClientRequest, ClientResponse
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

LOOPBACK_NAMES = ("localhost",)


class Refused(OSError):
    """A request the guard would not send (an OSError, so callers treat it as unreachable)."""


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _loopback(host: str) -> bool:
    address = _address(host)
    if address is not None:
        return address.is_loopback
    return host in LOOPBACK_NAMES or host.endswith(".localhost")


def endpoint_problem(url: str, *, production: bool) -> str | None:
    """Why the server will not call `url`, or None when it will."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "not a valid URL"
    if not host or parts.username is not None or parts.password is not None:
        return "needs a host and no credentials"
    if parts.scheme == "http" and not production and _loopback(host):
        return None
    if parts.scheme != "https":
        return "must be an https URL"
    address = _address(host)
    if production and (_loopback(host) or (address is not None and not address.is_global)):
        return "must be a public host"
    return None


def hop_guard(production: bool) -> ClientMiddlewareType:
    """A client middleware checking every request, redirects included, against the rule."""

    async def guard(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        problem = endpoint_problem(str(request.url), production=production)
        if problem is not None:
            raise Refused(f"refused to call {request.url.host}: {problem}")
        return await handler(request)

    return guard


class PublicResolver(AbstractResolver):
    """Resolves names as usual, keeping only globally routable addresses."""

    def __init__(self) -> None:
        self._resolver = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        public = [r for r in found if ipaddress.ip_address(r["host"]).is_global]
        if not public:
            raise Refused(f"refused to call {host}: it resolves to no public address")
        return public

    async def close(self) -> None:
        await self._resolver.close()

"""Builds the Socket.IO server from the settings: its client manager, origins and limits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from chat.realtime.managers import ChatManager, ChatRedisManager
from chat.realtime.server import ChatServer
from chat.security import origin_allowed
from config.settings import Settings

MAX_PACKET_BYTES = 1_000_000


def build_socket_server(settings: Settings) -> ChatServer:
    """One node's manager in memory, or Redis pub/sub between nodes when REDIS_URL is set."""
    return ChatServer(
        async_mode="aiohttp",
        client_manager=ChatRedisManager(settings.redis_url)
        if settings.redis_url
        else ChatManager(),
        cors_allowed_origins=origin_checker(settings.client_urls),
        cors_credentials=True,
        max_http_buffer_size=MAX_PACKET_BYTES,
        # Events from one socket run one after another, in the order they were sent, from a
        # bounded inbox (ChatServer) so the transport keeps reading meanwhile.
        async_handlers=False,
        event_limit=settings.socket_event_limit,
        event_wait=settings.socket_event_wait,
        logger=False,
        engineio_logger=False,
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
    )


def origin_checker(allowed: Iterable[str]) -> Callable[[str | None, dict[str, Any]], bool]:
    """Engine.IO's origin check: CLIENT_URL's origins, or the server's own (the demo page)."""
    urls = frozenset(allowed)

    def check(origin: str | None, environ: dict[str, Any]) -> bool:
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin_allowed(origin, own, urls)

    return check

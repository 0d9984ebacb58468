"""Typed keys under which the app factory stores what the handlers need."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from chat.services.accounts import Principal
from chat.services.container import Services
from config.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
STARTED_AT = web.AppKey("started_at", float)
# Connected sockets by transport, read when /metrics is scraped (the namespace provides it).
SOCKET_COUNTS = web.AppKey("socket_counts", Callable[[], dict[tuple[str, ...], float]])

# Per-request storage.
REQUEST_ID = web.RequestKey("request_id", str)
USER_ID = web.RequestKey("user_id", str)
PRINCIPAL = web.RequestKey("principal", Principal)

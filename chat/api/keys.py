"""Every typed key of the app and its requests: what the app factory stores for the handlers."""

from __future__ import annotations

from collections.abc import Callable

import socketio
from aiohttp import web

from chat.services.accounts import Principal
from chat.services.container import Services
from config.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
STARTED_AT = web.AppKey("started_at", float)
# The Socket.IO server (a chat.realtime.server.ChatServer; chat.api does not import realtime).
SOCKET_IO = web.AppKey("socket_io", socketio.AsyncServer)
# Connected sockets by transport, read when /metrics is scraped (the namespace provides it).
SocketCounts = Callable[[], dict[tuple[str, ...], float]]
SOCKET_COUNTS: web.AppKey[SocketCounts] = web.AppKey("socket_counts")

# Per-request storage.
REQUEST_ID = web.RequestKey("request_id", str)
USER_ID = web.RequestKey("user_id", str)
PRINCIPAL = web.RequestKey("principal", Principal)

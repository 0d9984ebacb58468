"""Typed keys under which the app factory stores what the handlers need."""

from __future__ import annotations

from aiohttp import web

from chat.services.accounts import Principal
from chat.services.container import Services
from config.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
STARTED_AT = web.AppKey("started_at", float)

# Per-request storage.
REQUEST_ID = web.RequestKey("request_id", str)
USER_ID = web.RequestKey("user_id", str)
PRINCIPAL = web.RequestKey("principal", Principal)

"""GET /health and /api/health: is the server up and can it reach MongoDB."""

from __future__ import annotations

import time

from aiohttp import web

from chat import __version__
from chat.api.keys import SERVICES, SETTINGS, STARTED_AT
from chat.api.route import Routes
from chat.services.presenters.shapes import HealthWire
from chat.services.presenters.time import iso

routes = Routes()


@routes.get("/health", "Health: is MongoDB reachable", reply=HealthWire, auth=False)
@routes.get("/api/health", "Health (under /api)", reply=HealthWire, auth=False)
async def health(request: web.Request) -> web.Response:
    connected = await request.app[SERVICES].health.database_reachable(within=2.5)
    body: HealthWire = {
        "status": "ok" if connected else "degraded",
        "database": "connected" if connected else "disconnected",
        "uptime": round(time.monotonic() - request.app[STARTED_AT], 3),
        "version": __version__,
        # Seed 001's fields: monitoring written for those servers reads them.
        "timestamp": iso(time.time_ns() // 1_000_000),
        "environment": request.app[SETTINGS].env,
    }
    return web.json_response(body, status=200 if connected else 503)

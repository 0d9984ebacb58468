"""GET /metrics: the Prometheus text format; with METRICS_TOKEN set, only for that Bearer token."""

from __future__ import annotations

import hmac

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from chat.api.keys import SETTINGS
from chat.errors import Unauthorized

routes = web.RouteTableDef()


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    token = request.app[SETTINGS].metrics_token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized("A valid metrics token is required")
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

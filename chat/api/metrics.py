"""GET /metrics (Prometheus text, METRICS_TOKEN-protected) and the HTTP request metrics."""

from __future__ import annotations

import hmac

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from chat.api.helpers import bearer_token
from chat.api.keys import SETTINGS, SOCKET_COUNTS
from chat.errors import Unauthorized
from chat.metrics import HTTP_REQUESTS, HTTP_SECONDS, SOCKETS

routes = web.RouteTableDef()
SOCKET_IO_ROUTE = "/socket.io/"


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    token = request.app[SETTINGS].metrics_token
    if token:
        given = bearer_token(request) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized("A valid metrics token is required")
    counts = request.app.get(SOCKET_COUNTS)
    if counts is not None:
        SOCKETS.set(counts())
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def route_of(request: web.Request) -> str:
    """The matched route's template (`/api/rooms/{room_id}`), never the raw path: raw paths
    would make one series per id."""
    resource = request.match_info.route.resource
    if resource is None:
        return "unmatched"  # 404 and 405 answered by the router itself
    return resource.canonical


def record_request(request: web.Request, status: int, seconds: float) -> None:
    """Count a finished request by method, route template and status, and time it."""
    route = route_of(request)
    method = request.method if request.method in _METHODS else "other"
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    if route != SOCKET_IO_ROUTE:  # long polls and websockets: connection time, not latency
        HTTP_SECONDS.labels(route).observe(seconds)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

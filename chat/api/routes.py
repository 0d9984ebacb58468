"""The REST route table: every endpoint, in one place, and the OpenAPI document built from it."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from aiohttp.web_routedef import AbstractRouteDef

from chat.api import auth, health, messages, metrics, push, rooms, threads, uploads, users
from chat.api.admin import routes as admin_routes
from chat.api.moderation import routes as moderation_routes
from chat.api.openapi import build_spec
from chat.api.route import Routes

# Described in the OpenAPI document. Fixed paths (`/api/rooms/mine`) come before `{room_id}`
# patterns within each table.
DOCUMENTED: list[Routes] = [
    health.routes,
    auth.routes,
    moderation_routes,  # before users: /api/users/blocked is not a user id
    users.routes,
    messages.routes,
    threads.routes,
    rooms.routes,
    uploads.routes,
    push.routes,
    admin_routes,
]


@functools.cache
def openapi_spec() -> dict[str, Any]:
    return build_spec(op for table in DOCUMENTED for op in table.operations)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_spec())


# Outside the document: Prometheus text, the document itself, the stored files.
UNDOCUMENTED: list[Iterable[AbstractRouteDef]] = [
    metrics.routes,
    [web.get("/api/openapi.json", openapi)],
    uploads.files,
]


def add_routes(app: web.Application) -> list[web.AbstractRoute]:
    """Register every REST route; return them so CORS can be applied to exactly these."""
    added: list[web.AbstractRoute] = []
    for table in [*DOCUMENTED, *UNDOCUMENTED]:
        added.extend(app.router.add_routes(table))
    return added

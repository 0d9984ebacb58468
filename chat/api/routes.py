"""The REST route table: every endpoint, in one place."""

from __future__ import annotations

from aiohttp import web

from chat.api import auth, health, messages, metrics, openapi, rooms, uploads, users

# Fixed paths (`/api/rooms/mine`) come before `{room_id}` patterns within each table.
ROUTE_TABLES: list[web.RouteTableDef] = [
    health.routes,
    metrics.routes,
    openapi.routes,
    auth.routes,
    users.routes,
    messages.routes,
    rooms.routes,
    uploads.routes,
]


def add_routes(app: web.Application) -> list[web.AbstractRoute]:
    """Register every REST route; return them so CORS can be applied to exactly these."""
    added: list[web.AbstractRoute] = []
    for table in ROUTE_TABLES:
        added.extend(app.router.add_routes(table))
    return added

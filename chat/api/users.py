"""REST handlers for /api/users."""

from __future__ import annotations

from aiohttp import web

from chat import schemas
from chat.api.helpers import body, ok, principal, query
from chat.api.keys import SERVICES

routes = web.RouteTableDef()


@routes.get("/api/users")
async def list_users(request: web.Request) -> web.Response:
    me = await principal(request)
    q = query(request, schemas.PageQuery())
    users, total = await request.app[SERVICES].users.list(me, q["skip"], q["limit"])
    return ok({"users": users, "total": total})


@routes.get("/api/users/search")
async def search_users(request: web.Request) -> web.Response:
    me = await principal(request)
    q = query(request, schemas.UserSearchQuery())
    return ok({"users": await request.app[SERVICES].users.search(me, q["q"], q["limit"])})


@routes.get("/api/users/online")
async def online_users(request: web.Request) -> web.Response:
    me = await principal(request)
    return ok({"users": await request.app[SERVICES].users.online(me)})


@routes.get("/api/users/me")
async def get_me(request: web.Request) -> web.Response:
    me = await principal(request)
    return ok({"user": await request.app[SERVICES].users.view(me.user, own=True)})


@routes.patch("/api/users/me")
async def update_me(request: web.Request) -> web.Response:
    me = await principal(request)
    data = await body(request, schemas.ProfileBody())
    users = request.app[SERVICES].users
    return ok({"user": await users.view(await users.update_me(me, data), own=True)})


@routes.get("/api/users/{user_id}")
async def get_user(request: web.Request) -> web.Response:
    me = await principal(request)
    users = request.app[SERVICES].users
    doc = await users.get(request.match_info["user_id"])
    return ok({"user": await users.view(doc, own=doc["_id"] == me.user_id)})

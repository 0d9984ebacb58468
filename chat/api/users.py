"""REST handlers for /api/users."""

from __future__ import annotations

from aiohttp import web

from chat import schemas
from chat.api.helpers import ok
from chat.api.keys import SERVICES
from chat.api.replies import UserReply, UsersPage, UsersReply
from chat.api.route import Data, Routes
from chat.services.accounts import Principal

routes = Routes()


@routes.get("/api/users", "Everyone but you", query=schemas.PageQuery, reply=UsersPage)
async def list_users(request: web.Request, me: Principal, q: Data) -> web.Response:
    users, total = await request.app[SERVICES].users.list(me, q["skip"], q["limit"])
    return ok({"users": users, "total": total})


@routes.get(
    "/api/users/search",
    "Users by name or email prefix",
    query=schemas.UserSearchQuery,
    reply=UsersReply,
)
async def search_users(request: web.Request, me: Principal, q: Data) -> web.Response:
    return ok({"users": await request.app[SERVICES].users.search(me, q["q"], q["limit"])})


@routes.get("/api/users/online", "Users online now", reply=UsersReply)
async def online_users(request: web.Request, me: Principal) -> web.Response:
    return ok({"users": await request.app[SERVICES].users.online(me)})


@routes.get("/api/users/me", "Your own user (with email)", reply=UserReply)
async def get_me(request: web.Request, me: Principal) -> web.Response:
    return ok({"user": await request.app[SERVICES].users.view(me.user, own=True)})


@routes.patch("/api/users/me", "Change your profile", body=schemas.ProfileBody, reply=UserReply)
async def update_me(request: web.Request, me: Principal, data: Data) -> web.Response:
    users = request.app[SERVICES].users
    return ok({"user": await users.update_me(me, data)})


@routes.get("/api/users/{user_id}", "A user", reply=UserReply)
async def get_user(request: web.Request, me: Principal) -> web.Response:
    users = request.app[SERVICES].users
    return ok({"user": await users.profile(me, request.match_info["user_id"])})

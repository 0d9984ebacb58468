"""REST handlers for /api/users (your own account's export and deletion too)."""

from __future__ import annotations

import json

from aiohttp import web

from chat import schemas
from chat.api.helpers import clear_session_cookie, ok
from chat.api.keys import SERVICES
from chat.api.replies import UserReply, UsersPage, UsersReply
from chat.api.route import Data, Routes
from chat.schemas.accounts import DeleteAccountBody
from chat.services.account_export import ExportDocument
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


@routes.get(
    "/api/users/me/export",
    "Your data as one JSON download: profile, memberships, the messages you sent",
    reply=ExportDocument,
)
async def export_me(request: web.Request, me: Principal) -> web.StreamResponse:
    """Streamed a page of messages at a time: memory stays bounded however many there are."""
    export = request.app[SERVICES].lifecycle.export
    head = await export.head(me)
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": f'attachment; filename="chat-export-{me.user_id}.json"',
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    opening = json.dumps(head, ensure_ascii=False)
    await response.write((opening[:-1] + ', "messages": [').encode())
    first = True
    async for page in export.messages(me.user_id):
        text = ",".join(json.dumps(m, ensure_ascii=False) for m in page)
        await response.write(((",", "")[first] + text).encode())
        first = False
    await response.write(b"]}")
    await response.write_eof()
    return response


@routes.delete(
    "/api/users/me",
    "Delete your account (your password again); sessions revoked, sockets cut",
    body=DeleteAccountBody,
    status=204,
)
async def delete_me(request: web.Request, me: Principal, data: Data) -> web.Response:
    await request.app[SERVICES].lifecycle.deletion.delete(me, data["password"])
    response = web.Response(status=204)
    clear_session_cookie(request, response)
    return response


@routes.get("/api/users/{user_id}", "A user", reply=UserReply)
async def get_user(request: web.Request, me: Principal) -> web.Response:
    users = request.app[SERVICES].users
    return ok({"user": await users.profile(me, request.match_info["user_id"])})

"""REST handlers for /api/auth: register, login, logout, me, refresh, password."""

from __future__ import annotations

from aiohttp import web

from chat import schemas
from chat.api.helpers import clear_session_cookie, ok, set_session_cookie
from chat.api.keys import SERVICES, USER_ID
from chat.api.replies import MessageReply, SignedIn, TokenReply, UserReply
from chat.api.route import Data, Routes
from chat.services.accounts import Principal

routes = Routes()


@routes.post(
    "/api/auth/register",
    "Create an account",
    body=schemas.RegisterBody,
    reply=SignedIn,
    status=201,
    auth=False,
)
async def register(request: web.Request, data: Data) -> web.Response:
    services = request.app[SERVICES]
    signed = await services.accounts.register(data["name"], data["email"], data["password"])
    request[USER_ID] = signed.user_id
    response = ok(
        {"user": await services.users.view(signed.user, own=True), "token": signed.token}, 201
    )
    set_session_cookie(request, response, signed.token)
    return response


@routes.post("/api/auth/login", "Sign in", body=schemas.LoginBody, reply=SignedIn, auth=False)
async def login(request: web.Request, data: Data) -> web.Response:
    services = request.app[SERVICES]
    signed = await services.accounts.login(data["email"], data["password"])
    request[USER_ID] = signed.user_id
    response = ok({"user": await services.users.view(signed.user, own=True), "token": signed.token})
    set_session_cookie(request, response, signed.token)
    return response


@routes.post("/api/auth/logout", "Sign out: revoke this session", reply=MessageReply)
async def logout(request: web.Request, me: Principal) -> web.Response:
    await request.app[SERVICES].accounts.logout(me)
    response = ok({"message": "Logged out"})
    clear_session_cookie(request, response)
    return response


@routes.get("/api/auth/me", "Your own user", reply=UserReply)
async def me(request: web.Request, caller: Principal) -> web.Response:
    return ok({"user": await request.app[SERVICES].users.view(caller.user, own=True)})


@routes.post("/api/auth/refresh", "A fresh expiry for this session", reply=TokenReply)
async def refresh(request: web.Request, caller: Principal) -> web.Response:
    token = await request.app[SERVICES].accounts.refresh(caller)
    response = ok({"token": token})
    set_session_cookie(request, response, token)
    return response


@routes.put(
    "/api/auth/password",
    "Change password; revokes other sessions",
    body=schemas.PasswordBody,
    reply=MessageReply,
)
async def change_password(request: web.Request, caller: Principal, data: Data) -> web.Response:
    await request.app[SERVICES].accounts.change_password(
        caller, data["currentPassword"], data["newPassword"]
    )
    return ok({"message": "Password changed"})

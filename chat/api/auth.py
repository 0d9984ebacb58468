"""REST handlers for /api/auth: register, login, logout, me, refresh, password."""

from __future__ import annotations

from aiohttp import web

from chat import schemas
from chat.api.helpers import body, clear_session_cookie, ok, principal, set_session_cookie
from chat.api.keys import SERVICES, USER_ID
from chat.errors import Unauthorized

routes = web.RouteTableDef()


@routes.post("/api/auth/register")
async def register(request: web.Request) -> web.Response:
    data = await body(request, schemas.RegisterBody())
    services = request.app[SERVICES]
    signed = await services.accounts.register(data["name"], data["email"], data["password"])
    request[USER_ID] = signed.user["_id"]
    response = ok(
        {"user": await services.users.view(signed.user, own=True), "token": signed.token}, 201
    )
    set_session_cookie(request, response, signed.token)
    return response


@routes.post("/api/auth/login")
async def login(request: web.Request) -> web.Response:
    data = await body(request, schemas.LoginBody())
    services = request.app[SERVICES]
    # Per account as well as per address (the middleware): guessing one account's password
    # from many addresses is stopped too. Only failures count, so its owner is never slowed.
    account = data["email"].strip().lower()
    await services.limiter.check("login_account", account)
    try:
        signed = await services.accounts.login(data["email"], data["password"])
    except Unauthorized:
        await services.limiter.hit("login_account", account)
        raise
    request[USER_ID] = signed.user["_id"]
    response = ok({"user": await services.users.view(signed.user, own=True), "token": signed.token})
    set_session_cookie(request, response, signed.token)
    return response


@routes.post("/api/auth/logout")
async def logout(request: web.Request) -> web.Response:
    me = await principal(request)
    await request.app[SERVICES].accounts.logout(me)
    response = ok({"message": "Logged out"})
    clear_session_cookie(request, response)
    return response


@routes.get("/api/auth/me")
async def me(request: web.Request) -> web.Response:
    caller = await principal(request)
    return ok({"user": await request.app[SERVICES].users.view(caller.user, own=True)})


@routes.post("/api/auth/refresh")
async def refresh(request: web.Request) -> web.Response:
    caller = await principal(request)
    token = await request.app[SERVICES].accounts.refresh(caller)
    response = ok({"token": token})
    set_session_cookie(request, response, token)
    return response


@routes.put("/api/auth/password")
async def change_password(request: web.Request) -> web.Response:
    caller = await principal(request)
    data = await body(request, schemas.PasswordBody())
    await request.app[SERVICES].accounts.change_password(
        caller, data["currentPassword"], data["newPassword"]
    )
    return ok({"message": "Password changed"})

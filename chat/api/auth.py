"""REST handlers for /api/auth: register, login, logout, me, refresh, password; password reset
and email verification by emailed link (services/recovery.py)."""

from __future__ import annotations

from aiohttp import web

from chat import schemas
from chat.api.helpers import (
    clear_session_cookie,
    client_address,
    ok,
    principal,
    request_token,
    set_session_cookie,
)
from chat.api.keys import SERVICES, USER_ID
from chat.api.replies import MessageReply, SignedIn, TokenReply, UserReply
from chat.api.route import Data, Routes
from chat.errors import Unauthorized
from chat.schemas.accounts import ForgotBody, ResetBody, VerifyBody
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


# -- password reset and email verification (CONTRACT.md "Account lifecycle") -------------------


@routes.post(
    "/api/auth/password/forgot",
    "Email a password reset link (202 whether or not the address has an account)",
    body=ForgotBody,
    reply=MessageReply,
    status=202,
    auth=False,
)
async def forgot_password(request: web.Request, data: Data) -> web.Response:
    services = request.app[SERVICES]
    await services.throttle.sign_in_attempt(client_address(request))
    await services.lifecycle.recovery.forgot(data["email"])
    return ok({"message": "If an account uses this address, a link is on its way to it"}, 202)


@routes.post(
    "/api/auth/password/reset",
    "Set a new password with the emailed token; every session is revoked",
    body=ResetBody,
    reply=MessageReply,
    auth=False,
)
async def reset_password(request: web.Request, data: Data) -> web.Response:
    services = request.app[SERVICES]
    await services.throttle.sign_in_attempt(client_address(request))
    await services.lifecycle.recovery.reset(data["token"], data["newPassword"])
    response = ok({"message": "Password changed: sign in with the new password"})
    clear_session_cookie(request, response)  # this browser's session ended with the others
    return response


@routes.post(
    "/api/auth/email/verify-request",
    "Email a link that verifies your address",
    reply=MessageReply,
    status=202,
)
async def request_verification(request: web.Request, me: Principal) -> web.Response:
    if not await request.app[SERVICES].lifecycle.recovery.request_verification(me):
        return ok({"message": "Your email address is verified already: no email sent"}, 202)
    return ok({"message": f"A link is on its way to {me.user.email}"}, 202)


@routes.post(
    "/api/auth/email/verify",
    "Verify your address with the emailed token (signed in or not)",
    body=VerifyBody,
    reply=UserReply,
    auth=False,
)
async def verify_email(request: web.Request, data: Data) -> web.Response:
    services = request.app[SERVICES]
    await services.throttle.sign_in_attempt(client_address(request))
    caller = await _signed_in(request)
    return ok({"user": await services.lifecycle.recovery.verify(data["token"], caller)})


async def _signed_in(request: web.Request) -> Principal | None:
    """The caller if the request carries a valid session, else None (a link may be opened in a
    browser where nobody, or somebody else, is signed in)."""
    if request_token(request) is None:
        return None
    try:
        return await principal(request)
    except Unauthorized:
        return None

"""What REST handlers share: reading bodies and queries, finding the caller, the session cookie."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from marshmallow import Schema

from chat.api.keys import PRINCIPAL, SERVICES, SETTINGS, USER_ID
from chat.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from chat.schemas import load
from chat.security import bearer, session_token
from chat.services.accounts import Principal

MAX_JSON_BYTES = 64 * 1024


def client_address(request: web.Request) -> str:
    """The caller's address. Behind a trusted proxy (TRUST_PROXY), the last X-Forwarded-For
    entry: the one that proxy appended. Earlier entries are whatever the client claimed."""
    if request.app[SETTINGS].trust_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return request.remote or "unknown"


async def body(request: web.Request, schema: Schema) -> dict[str, Any]:
    """The JSON body, validated. Malformed or oversized bodies are clear errors, never 500s."""
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"Body larger than {MAX_JSON_BYTES} bytes")
    # request.read(): the body protocol.body_deadline already read (within HTTP_READ_TIMEOUT);
    # past client_max_size (64 KB) it raises 413.
    raw = await request.read()
    if len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"Body larger than {MAX_JSON_BYTES} bytes")
    if not raw.strip():
        data: Any = {}
    elif request.content_type != "application/json":
        # A cross-site HTML form cannot send this type without a CORS preflight.
        raise UnsupportedMediaType("Send JSON with Content-Type: application/json")
    else:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise ValidationFailed("Malformed JSON body") from None
    return load(schema, data)


def query(request: web.Request, schema: Schema) -> dict[str, Any]:
    params = request.query
    if any(len(params.getall(k)) > 1 for k in params):
        raise ValidationFailed("Repeated query parameter")
    return load(schema, dict(params))


def bearer_token(request: web.Request) -> str | None:
    return bearer(request.headers.get("Authorization"))


def request_token(request: web.Request) -> str | None:
    """The session token, with the socket handshake's precedence (chat.security.session_token)."""
    cookie = request.cookies.get(request.app[SETTINGS].cookie_name)
    return session_token(None, request.headers.get("Authorization"), cookie)


async def principal(request: web.Request) -> Principal:
    """The signed-in caller, or UNAUTHORIZED."""
    found = request.get(PRINCIPAL)
    if found is None:
        found = await request.app[SERVICES].accounts.authenticate(request_token(request))
        request[PRINCIPAL] = found
        request[USER_ID] = found.user_id
    return found


def set_session_cookie(request: web.Request, response: web.Response, token: str) -> None:
    settings = request.app[SETTINGS]
    response.set_cookie(
        settings.cookie_name,
        token,
        max_age=settings.jwt_expires_in,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=settings.cookie_secure,
    )


def clear_session_cookie(request: web.Request, response: web.Response) -> None:
    settings = request.app[SETTINGS]
    response.del_cookie(
        settings.cookie_name, path="/", httponly=True, samesite="Lax", secure=settings.cookie_secure
    )


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)

"""Cross-cutting HTTP concerns: errors, access log, security headers, cookie CSRF, rate limits."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from chat.api.demo import DEMO_CSP, is_demo_path
from chat.api.helpers import bearer_token, client_address, request_token
from chat.api.keys import REQUEST_ID, SERVICES, SETTINGS, USER_ID
from chat.api.metrics import record_request
from chat.errors import (
    ChatError,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    UnsupportedMediaType,
    ValidationFailed,
)
from chat.security import origin_allowed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger("chat.http")

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUTH_PATHS = frozenset({"/api/auth/login", "/api/auth/register"})
UNLIMITED_PREFIXES = ("/health", "/api/health", "/socket.io/", "/uploads/", "/static/")


def error_response(error: ChatError, request_id: str) -> web.Response:
    response = web.json_response({"error": error.to_dict()}, status=error.status)
    response.headers["X-Request-Id"] = request_id
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.allowed)
    return response


def _from_http(exc: web.HTTPException) -> ChatError:
    """aiohttp's own refusals (no route, wrong method, body too big) in the contract's words."""
    if exc.status == 403:
        return Forbidden(exc.text if exc.text and not exc.text.startswith("403") else None)
    if exc.status == 404:
        return NotFound("No such endpoint")
    if exc.status == 405:
        allowed = sorted(getattr(exc, "allowed_methods", ()))
        return MethodNotAllowed(allowed)
    if exc.status == 413:
        return PayloadTooLarge()
    if exc.status == 415:
        return UnsupportedMediaType()
    if 400 <= exc.status < 500:
        return ValidationFailed(exc.reason)
    return ChatError()


CLIENT_GONE = 499  # nginx's "client closed request", for the access log


@web.middleware
async def errors_and_access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one place HTTP errors become contract JSON; one log line and the metrics per request."""
    request_id = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(8)
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except ChatError as exc:
        status = exc.status
        return error_response(exc, request_id)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and the like pass through untouched
            status = exc.status
            raise
        error = _from_http(exc)
        status = error.status
        return error_response(error, request_id)
    except asyncio.CancelledError:
        # aiohttp cancels the handler of a client that hung up mid-body (an aborted upload):
        # the client's doing, so a 499 in the access log, not a 500.
        status = CLIENT_GONE
        raise
    except ConnectionResetError:
        # The client went away mid-request (aiohttp's ClientConnectionResetError is one): its
        # fault, nobody to answer, and in a reconnect storm thousands of them; no traceback.
        # (aiohttp ignores the failed write of this answer at debug level.)
        status = CLIENT_GONE
        return web.Response(status=CLIENT_GONE)
    except HttpProcessingError as exc:
        # aiohttp's parsers (e.g. a multipart part with a malformed header) raise these mid-body.
        error = PayloadTooLarge() if exc.code == 413 else ValidationFailed("Malformed request body")
        status = error.status
        return error_response(error, request_id)
    except Exception:
        log.exception("unhandled error", extra={"request_id": request_id, "path": request.path})
        error = ChatError()
        if not request.app[SETTINGS].production:
            error.details = {"requestId": request_id}
        return error_response(error, request_id)
    finally:
        _finish(request, request_id, status, time.perf_counter() - started)


def _finish(request: web.Request, request_id: str, status: int, seconds: float) -> None:
    """A request's one access-log line, and its HTTP metrics."""
    log.info(
        "%s %s %s %.1fms",
        request.method,
        request.path,
        status,
        seconds * 1000,
        extra={
            "request_id": request_id,
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "user_id": request.get(USER_ID),
            "remote": client_address(request),
        },
    )
    record_request(request, status, seconds)


@web.middleware
async def cookie_csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A state-changing request that rides on the cookie must come from an allowed Origin."""
    if (
        request.method in STATE_CHANGING
        and request.path not in AUTH_PATHS  # these read no session; JSON-only bodies guard them
        and request.app[SETTINGS].cookie_name in request.cookies
        and bearer_token(request) is None
    ):
        origin = request.headers.get("Origin", "")
        own = f"{request.scheme}://{request.host}"
        if not origin_allowed(origin, own, request.app[SETTINGS].client_urls):
            raise Forbidden("Cross-site request refused: Origin not allowed")
    return await handler(request)


@web.middleware
async def rate_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if (
        request.method != "OPTIONS"
        and path.startswith("/api/")
        and not path.startswith(UNLIMITED_PREFIXES)
    ):
        throttle = request.app[SERVICES].throttle
        if path in AUTH_PATHS:
            await throttle.sign_in_attempt(client_address(request))
        else:  # per user when signed in (a token this server signed), else per address
            await throttle.api_request(client_address(request), request_token(request))
    return await handler(request)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response, errors and files included, gets these."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.path.startswith("/api/") or request.path in ("/health",):
        headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        headers.setdefault("Cache-Control", "no-store")
    elif is_demo_path(request.path):
        headers.setdefault("Content-Security-Policy", DEMO_CSP)
        # Revalidate (ETag) every time, so a deploy never pairs a new page with an old script.
        headers.setdefault("Cache-Control", "no-cache")
    if request.app[SETTINGS].cookie_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")

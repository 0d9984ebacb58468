"""HTTP below the routes: parser refusals as contract JSON, deadlines for headers and bodies."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server

from chat.api.keys import REQUEST_ID, SETTINGS
from chat.api.middlewares import error_response
from chat.errors import ChatError, PayloadTooLarge, ValidationFailed

log = logging.getLogger("chat.http")
T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SlowRequest(ValidationFailed):
    """The body did not arrive in time (a lying Content-Length, a trickle)."""


class _JsonErrorsHandler(RequestHandler):
    """aiohttp answers what its parser refuses (a 100 KB header, a bad request line) itself, in
    plain text that quotes the input, and logs a traceback per request: answer in the contract's
    JSON instead, echo nothing, and log one line without a traceback (it is the client's fault)."""

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # some data already went: nothing can be answered
            raise ConnectionError("Response is sent already")
        if status == 500:
            log.error("error handling a request from %s", request.remote, exc_info=exc)
            error: ChatError = ChatError()
        else:
            # Only the exception's type: its message quotes the client's bytes.
            log.warning("unparseable request from %s: %s", request.remote, type(exc).__name__)
            error = (
                PayloadTooLarge() if status == 413 else ValidationFailed("Malformed HTTP request")
            )
        response = web.json_response({"error": error.to_dict()}, status=error.status)
        response.force_close()
        return response


class _JsonErrorsServer(Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorsHandler(self, loop=self._loop, **self._kwargs)


def install(app: web.Application) -> None:
    """Serve `app` with the JSON-error protocol handler, whoever runs it (run.py or a test)."""
    make = app._make_handler

    def make_handler(**kwargs: Any) -> Server:
        plain = make(**kwargs)
        return _JsonErrorsServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            **plain._kwargs,
        )

    app._make_handler = make_handler  # type: ignore[method-assign]


async def within(awaitable: Awaitable[T], deadline: float) -> T:
    """Await `awaitable` until the monotonic `deadline`; past it the body counts as too slow."""
    try:
        return await asyncio.wait_for(awaitable, max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        raise SlowRequest("The request body did not arrive in time") from None


@web.middleware
async def body_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Read a small body whole within HTTP_READ_TIMEOUT before any handler waits on it, and close
    the connection of a request whose body came too slowly.

    Multipart uploads stream instead, under a minimum rate (see multipart.read_form).
    """
    try:
        if (
            request.body_exists
            and not request.content_type.startswith("multipart/")
            # Engine.IO reads its polling POSTs from the stream itself (a read here empties it).
            and not request.path.startswith("/socket.io/")
        ):
            deadline = time.monotonic() + request.app[SETTINGS].http_read_timeout
            await within(request.read(), deadline)
        return await handler(request)
    except SlowRequest as exc:
        log.warning("request body too slow: %s %s", request.method, request.path)
        response = error_response(exc, request[REQUEST_ID])
        # The rest of the body may still come: this connection cannot carry another request.
        response.force_close()
        return response

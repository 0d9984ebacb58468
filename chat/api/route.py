"""One declaration per endpoint: method, path, what it reads, what it answers.

    @routes.post("/api/rooms", "Create a room", body=schemas.RoomCreateBody, reply=RoomReply,
                 status=201)
    async def create_room(request: web.Request, me: Principal, data: Data) -> web.Response: ...

The declaration is both what runs and what the OpenAPI document shows (chat.api.openapi builds it
from `Routes.operations`), so the two cannot drift apart. The handler is called with the request,
then the signed-in caller unless `auth=False` (a missing or bad token is UNAUTHORIZED before
anything else is read), then the validated body (`body=`) or query string (`query=`). A multipart
`form=` is only described: the handler streams it itself.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from aiohttp import web
from marshmallow import Schema

from chat.api.helpers import body, principal, query

Handler = Callable[..., Awaitable[web.StreamResponse]]
Decorator = Callable[[Handler], Handler]
Data = dict[str, Any]


class Doc(TypedDict, total=False):
    body: type[Schema]  # a JSON body, validated before the handler runs
    query: type[Schema]  # the query string, validated before the handler runs
    form: Mapping[str, Any]  # a multipart/form-data body's JSON schema (the handler reads it)
    reply: type  # a TypedDict (chat.api.replies, chat.services.presenters.shapes)
    status: int  # the success status (200 unless said)
    also: tuple[int, ...]  # other success statuses with the same reply
    auth: bool  # a signed-in caller is needed (True unless said)


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    form: Mapping[str, Any] | None = None
    reply: type | None = None
    status: int = 200
    also: tuple[int, ...] = ()
    auth: bool = True

    @property
    def path_params(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]


class Routes:
    """A module's routes: the aiohttp route definitions and the operations they document."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []
        self._defs: list[web.RouteDef] = []

    def __iter__(self) -> Iterator[web.RouteDef]:
        return iter(self._defs)

    def get(self, path: str, summary: str, **doc: Unpack[Doc]) -> Decorator:
        return self._route("GET", path, summary, doc)

    def post(self, path: str, summary: str, **doc: Unpack[Doc]) -> Decorator:
        return self._route("POST", path, summary, doc)

    def put(self, path: str, summary: str, **doc: Unpack[Doc]) -> Decorator:
        return self._route("PUT", path, summary, doc)

    def patch(self, path: str, summary: str, **doc: Unpack[Doc]) -> Decorator:
        return self._route("PATCH", path, summary, doc)

    def delete(self, path: str, summary: str, **doc: Unpack[Doc]) -> Decorator:
        return self._route("DELETE", path, summary, doc)

    def _route(self, method: str, path: str, summary: str, doc: Doc) -> Decorator:
        operation = Operation(method, path, summary, **doc)
        if operation.body is not None and operation.query is not None:
            raise TypeError(f"{method} {path}: a body or a query string, not both")

        def register(handler: Handler) -> Handler:
            _check_signature(operation, handler)
            self.operations.append(operation)
            self._defs.append(web.RouteDef(method, path, _bound(operation, handler), {}))
            return handler  # undecorated, so routes can be stacked

        return register


def _check_signature(operation: Operation, handler: Handler) -> None:
    """At import, not at the first request: the handler takes what the declaration passes."""
    reads = operation.body is not None or operation.query is not None
    wanted = ["request"] + ["caller"] * operation.auth + ["body or query"] * reads
    if len(inspect.signature(handler).parameters) != len(wanted):
        raise TypeError(f"{handler.__name__} must take ({', '.join(wanted)})")


def _bound(operation: Operation, handler: Handler) -> Handler:
    """The handler with its declared reads done first: caller, then body or query string."""
    if not operation.auth and operation.body is None and operation.query is None:
        return handler
    body_schema = operation.body() if operation.body is not None else None
    query_schema = operation.query() if operation.query is not None else None

    @functools.wraps(handler)
    async def bound(request: web.Request) -> web.StreamResponse:
        args: list[Any] = [request]
        if operation.auth:
            args.append(await principal(request))
        if body_schema is not None:
            args.append(await body(request, body_schema))
        elif query_schema is not None:
            args.append(query(request, query_schema))
        return await handler(*args)

    return bound

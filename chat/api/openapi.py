"""The OpenAPI 3 description of the REST API, built from the route declarations (chat.api.route).

Request bodies and query strings are the very marshmallow schemas the routes validate with
(chat.schemas, rendered by apispec); replies are the TypedDicts the presenters are checked against
(chat.services.presenters.shapes, chat.api.replies; rendered by chat.api.typed_schema). Served at
GET /api/openapi.json; tests/test_openapi.py checks every route is described and runs schemathesis
against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from chat import __version__
from chat.api.replies import ErrorOut
from chat.api.route import Operation
from chat.api.typed_schema import Schema, schema_of

SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]


def build_spec(operations: Iterable[Operation]) -> dict[str, Any]:
    spec = APISpec(
        title="chat",
        version=__version__,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "The REST half of the chat server. The Socket.IO half is in docs/API.md."
        },
    )
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    spec.components.security_scheme("cookie", {"type": "apiKey", "in": "cookie", "name": "token"})
    shapes: dict[str, Schema] = {}
    error = schema_of(ErrorOut, shapes)
    by_path: dict[str, dict[str, Any]] = {}
    for op in operations:
        by_path.setdefault(op.path, {})[op.method.lower()] = _operation(op, shapes, error)
    for name, component in sorted(shapes.items()):
        spec.components.schema(name, component)
    for path, described in by_path.items():
        spec.path(path=path, operations=described)
    return spec.to_dict()


def _operation(op: Operation, shapes: dict[str, Schema], error: Schema) -> dict[str, Any]:
    described: dict[str, Any] = {"summary": op.summary, "responses": {}}
    params: list[dict[str, Any]] = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in op.path_params
    ]
    if op.query is not None:
        params.append({"in": "query", "schema": op.query})
    if params:
        described["parameters"] = params
    if op.form is not None:
        described["requestBody"] = _content(op.form, "multipart/form-data", required=True)
    elif op.body is not None:
        described["requestBody"] = _content(op.body, "application/json", required=True)
    success: dict[str, Any] = {"description": "Success"}
    if op.reply is not None:
        success.update(_content(schema_of(op.reply, shapes), "application/json"))
    for status in (op.status, *op.also):
        described["responses"][str(status)] = success
    described["responses"]["default"] = {
        "description": "An error, with the contract's code",
        **_content(error, "application/json"),
    }
    if op.auth:
        described["security"] = SECURITY
    return described


def _content(schema: Any, media_type: str, *, required: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"content": {media_type: {"schema": schema}}}
    if required:
        content["required"] = True
    return content

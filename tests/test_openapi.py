"""The OpenAPI description: it covers every route, and schemathesis finds no 500 and no response
that breaks its schema, with hypothesis-made requests against a real server process.

The document is built from the route declarations themselves (chat.api.route); the first test
catches a route added to the app some other way, which the document would not show."""

from __future__ import annotations

import json
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chat.api.routes import openapi_spec
from chat.app import create_app
from tests.cluster import Node, node_env

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Revoking the run's own session would turn every later case into a 401.
SKIPPED = {("POST", "/api/auth/logout")}


def test_every_route_is_described(settings):
    app = create_app(settings)
    described = {
        (method.upper(), path) for path, ops in openapi_spec()["paths"].items() for method in ops
    }
    served = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method in ("HEAD", "OPTIONS", "*") or not (
            path.startswith("/api/") or path == "/health"
        ):
            continue
        served.add((route.method, path))
    served.discard(("GET", "/api/openapi.json"))
    assert served == described


async def test_openapi_document_is_served(client):
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    body = await resp.json()
    assert body["openapi"].startswith("3.")
    assert "/api/rooms/{room_id}/messages" in body["paths"]


@pytest.fixture(scope="module")
def api_node(mongo, tmp_path_factory):
    env = node_env(mongo.uri, "", tmp_path_factory.mktemp("openapi"), RATE_LIMIT_API="1000000/minute",
                   RATE_LIMIT_AUTH="1000000/minute", RATE_LIMIT_MESSAGES="1000000/10seconds")  # fmt: skip
    node = Node(env)
    log = tmp_path_factory.mktemp("openapi-log") / "node.log"
    node.start(log)
    yield node
    node.stop()
    assert "Traceback" not in log.read_text(errors="replace")


@pytest.fixture(scope="module")
def token(api_node):
    body = json.dumps(
        {"name": "Fuzz", "email": "fuzz@example.com", "password": "fuzz-password"}
    ).encode()
    request = urllib.request.Request(
        api_node.url + "/api/auth/register", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())["token"]


@pytest.mark.slow
def test_schemathesis_finds_no_500_and_no_broken_response(api_node, token):
    schema = schemathesis.openapi.from_url(api_node.url + "/api/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures: dict[str, str] = {}
    calls, operations = 0, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        operations += 1
        # Valid data (must never 500) and invalid data (must be refused with a documented error).
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=25,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                nonlocal calls
                calls += 1
                case.call_and_validate(base_url=api_node.url, headers=headers, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                assert (
                    mode is GenerationMode.NEGATIVE
                )  # nothing to get wrong: no parameters, no body
            except Exception as exc:  # one operation's failure must not hide the others'
                failures[f"{operation.method.upper()} {operation.path} ({mode.value})"] = str(exc)[
                    :2000
                ]
    print(f"\nschemathesis: {calls} requests over {operations} operations, valid and invalid data")
    assert failures == {}, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())

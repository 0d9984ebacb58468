"""HTTP-wide behaviour: security headers, CORS, rate limits, unknown routes, error shape."""

from __future__ import annotations

from tests.helpers import ORIGIN, bearer, register


async def test_security_headers_on_success_and_error(client):
    for path, status in (("/health", 200), ("/api/auth/me", 401), ("/api/nowhere", 404)):
        resp = await client.get(path)
        assert resp.status == status
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in resp.headers


async def test_unknown_route_and_method_use_the_error_shape(client):
    resp = await client.get("/api/nowhere")
    assert (await resp.json())["error"]["code"] == "NOT_FOUND"
    resp = await client.delete("/api/auth/me")
    assert resp.status == 405
    assert (await resp.json())["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_cors_allows_listed_origin_with_credentials(client):
    resp = await client.options(
        "/api/auth/login",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert resp.headers["Access-Control-Allow-Credentials"] == "true"
    resp = await client.get("/health", headers={"Origin": ORIGIN})
    assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN


async def test_cors_refuses_foreign_origin(client):
    resp = await client.options(
        "/api/auth/login",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert resp.status == 403
    assert "Access-Control-Allow-Origin" not in resp.headers
    resp = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_auth_rate_limit(make_client):
    client = await make_client(rate_limit_auth="3/minute")
    for _ in range(3):
        resp = await client.post(
            "/api/auth/login", json={"email": "a@example.com", "password": "whatever1"}
        )
        assert resp.status == 401
    resp = await client.post(
        "/api/auth/login", json={"email": "a@example.com", "password": "whatever1"}
    )
    assert resp.status == 429
    body = await resp.json()
    assert body["error"]["code"] == "RATE_LIMITED"
    retry = int(resp.headers["Retry-After"])
    assert 1 <= retry <= 60 and body["error"]["details"]["retryAfter"] == retry
    assert (await client.get("/health")).status == 200  # health is never limited


async def test_api_rate_limit(make_client):
    client = await make_client(rate_limit_api="4/minute")
    token = (await register(client)).token
    statuses = [(await client.get("/api/auth/me", headers=bearer(token))).status for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


async def test_production_hides_error_details(make_client):
    client = await make_client(env="production", cookie_secure=True)
    resp = await client.get("/api/auth/me")
    body = await resp.json()
    assert body == {"error": {"code": "UNAUTHORIZED", "message": "Authentication required"}}
    assert "Strict-Transport-Security" in resp.headers

"""The demo web client's files: served at / with a CSP that allows only its own scripts, the
vendored socket.io-client bundle identical to the npm package, and off with DEMO_CLIENT=false."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "chat" / "static"
NPM_CLIENT = ROOT / "clients" / "node_modules" / "socket.io-client"


async def test_page_and_its_files_are_served_with_a_strict_csp(client):
    page = await client.get("/")
    assert page.status == 200
    assert page.content_type == "text/html"
    html = await page.text()
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    # Every script and stylesheet the page names is served from /static/.
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert {"/static/app.js", "/static/app.css", "/static/vendor/socket.io.min.js"} <= set(assets)
    for asset in assets:
        resp = await client.get(asset)
        assert resp.status == 200, asset
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Cache-Control"] == "no-cache"
        again = await client.get(asset, headers={"If-None-Match": resp.headers["ETag"]})
        assert again.status == 304, asset  # revalidation is cheap
    assert "<script>" not in html and "style=" not in html  # nothing inline for the CSP to block


async def test_static_serves_only_files_in_its_folder(client):
    for path in ("/static/", "/static/../config/settings.py", "/static/%2e%2e/run.py"):
        resp = await client.get(path)
        assert resp.status in (403, 404), path
        assert "JWT" not in await resp.text()


async def test_demo_off_leaves_only_the_api(make_client):
    client = await make_client(demo_client=False)
    assert (await client.get("/")).status == 404
    assert (await client.get("/static/app.js")).status == 404
    assert (await client.get("/health")).status == 200


@pytest.mark.skipif(
    not NPM_CLIENT.exists(), reason="npm packages missing: run `npm ci --prefix clients`"
)
def test_vendored_bundle_is_the_npm_package_unchanged():
    vendored = STATIC / "vendor"
    npm = NPM_CLIENT / "dist" / "socket.io.min.js"
    assert (vendored / "socket.io.min.js").read_bytes() == npm.read_bytes()
    assert (vendored / "socket.io-client.LICENSE").read_bytes() == (
        NPM_CLIENT / "LICENSE"
    ).read_bytes()
    version = re.search(r'"version":\s*"([^"]+)"', (NPM_CLIENT / "package.json").read_text())
    assert version is not None
    assert f"| {version.group(1)} |" in (vendored / "README.md").read_text()

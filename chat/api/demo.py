"""The demo web client: `/` and its files under `/static/`, served only with DEMO_CLIENT on."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

# The page talks only to its own origin; `'self'` in connect-src covers same-origin ws:// too.
# Images may come from Cloudinary, so any https image source is allowed, and nothing else.
DEMO_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


def add_demo_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    # No directory listing, no symlinks out of the folder (aiohttp's defaults).
    app.router.add_static("/static/", STATIC_DIR)


def is_demo_path(path: str) -> bool:
    return path == "/" or path.startswith("/static/")

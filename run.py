"""Run the chat server: load settings, start the embedded database if no MONGODB_URI, serve."""

from __future__ import annotations

import dataclasses
import errno
import logging
import sys
from urllib.parse import urlsplit

from aiohttp import web

from chat import __version__
from chat.app import create_app
from chat.logs import configure
from chat.store.embedded import EmbeddedMongo
from chat.tuning import new_event_loop
from config.settings import SettingsError, load_settings

log = logging.getLogger("chat")


def _safe_host(uri: str) -> str:
    """The MongoDB host(s) of a URI, never its credentials."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}"


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"chat: configuration error: {exc}", file=sys.stderr)
        return 2
    configure(settings.log_level, settings.log_format)

    embedded = None
    if settings.mongodb_uri:
        database = (
            f"MongoDB at {_safe_host(settings.mongodb_uri)}, database {settings.mongodb_db!r}"
        )
    else:
        db_dir = settings.data_dir / "db"
        embedded = EmbeddedMongo(db_dir)
        try:
            uri = embedded.start()
        except RuntimeError as exc:
            print(f"chat: could not start the embedded database: {exc}", file=sys.stderr)
            return 1
        settings = dataclasses.replace(settings, mongodb_uri=uri)
        database = f"embedded (nx-27017) at {db_dir.resolve()}, database {settings.mongodb_db!r}"

    shown_host = "localhost" if settings.host in ("0.0.0.0", "::") else settings.host
    demo = " (demo client at /)" if settings.demo_client else ""
    print(
        f"chat {__version__} | http://{shown_host}:{settings.port}{demo} | {settings.env} | "
        f"{database}",
        flush=True,
    )
    try:
        web.run_app(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            access_log=None,
            print=None,
            shutdown_timeout=5,
            loop=new_event_loop(),
        )
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        # A configuration problem, not a crash: one line that says what to change.
        print(
            f"chat: port {settings.port} is in use on {settings.host}; set PORT "
            "(or stop the other server)",
            file=sys.stderr,
        )
        return 2
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

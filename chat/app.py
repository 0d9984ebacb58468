"""Composition root: `create_app(settings)` builds the app, and `Clients` opens and closes what
it holds (the database, the presence ledger, the services, the Socket.IO namespace), one aiohttp
cleanup context each, as aiohttp-demos `polls` does. aiohttp starts them in order before the
first request and closes them in reverse after the last."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import aiohttp_cors
from aiohttp import web

from chat.api import middlewares, protocol
from chat.api.demo import add_demo_routes
from chat.api.keys import SERVICES, SETTINGS, SOCKET_COUNTS, SOCKET_IO, STARTED_AT
from chat.api.routes import add_routes
from chat.errors import Unavailable
from chat.realtime.build import build_socket_server
from chat.realtime.namespace import ChatNamespace
from chat.realtime.publisher import SocketPublisher
from chat.realtime.server import ChatServer
from chat.services.factory import build_limiter, build_services, build_storage
from chat.services.ledger import Ledger, LocalLedger
from chat.store import Store
from chat.store.presence_redis import RedisLedger
from chat.tuning import settle_garbage_collector
from config.settings import Settings

log = logging.getLogger("chat")

SHUTDOWN_DRAIN_SECONDS = 3
INDEX_RETRY_SECONDS = 5


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[
            middlewares.errors_and_access_log,
            middlewares.cookie_csrf,
            middlewares.rate_limits,
            protocol.body_deadline,
        ],
        client_max_size=64 * 1024,
        # aiohttp's idle timer also runs while a request's headers trickle in: their deadline.
        handler_args={"keepalive_timeout": settings.http_read_timeout},
    )
    protocol.install(app)
    app[SETTINGS] = settings
    app[STARTED_AT] = time.monotonic()
    app[SOCKET_IO] = sio = build_socket_server(settings)
    clients = Clients(settings, sio)
    app.cleanup_ctx.extend(
        [clients.database, clients.presence_ledger, clients.services, clients.realtime]
    )
    app.on_startup.append(_settle_garbage_collector)  # after every client has started
    app.on_shutdown.append(clients.goodbye)
    _add_routes_with_cors(app, settings)
    if settings.demo_client:
        add_demo_routes(app)
    sio.attach(app)
    app.on_response_prepare.append(middlewares.security_headers)
    return app


class Clients:
    """What the app holds open, each built when the app starts and closed when it stops."""

    store: Store
    ledger: Ledger
    namespace: ChatNamespace

    def __init__(self, settings: Settings, sio: ChatServer) -> None:
        self.settings = settings
        self.sio = sio
        self.publisher = SocketPublisher(sio)

    async def database(self, app: web.Application) -> AsyncIterator[None]:
        """MongoDB. Start-up waits for the indexes up to DB_TIMEOUT + 1 s; when the database is
        down, they are created in the background once it is back."""
        s = self.settings
        self.store = Store(s.mongodb_uri, s.mongodb_db, s.db_timeout_ms)
        indexes = asyncio.create_task(_indexes_until_done(self.store))
        await asyncio.wait([indexes], timeout=s.db_timeout_ms / 1000 + 1)
        yield
        indexes.cancel()
        await self.store.close()

    async def presence_ledger(self, app: web.Application) -> AsyncIterator[None]:
        """Who is connected: in this process, or in Redis shared by every node (REDIS_URL)."""
        s = self.settings
        self.ledger = (
            RedisLedger(s.redis_url, s.presence_ttl_seconds, s.presence_grace_seconds)
            if s.redis_url
            else LocalLedger()
        )
        await self.ledger.start()
        yield
        await self.ledger.close()

    async def services(self, app: web.Application) -> AsyncIterator[None]:
        """The services over the clients; the handlers find them at `app[SERVICES]`."""
        services = build_services(
            self.settings,
            store=self.store,
            ledger=self.ledger,
            limiter=build_limiter(self.settings),
            storage=build_storage(self.settings),
            publisher=self.publisher,
        )
        app[SERVICES] = services
        await services.start()
        yield
        await services.close()

    async def realtime(self, app: web.Application) -> AsyncIterator[None]:
        """The Socket.IO namespace (registered before the first connection can arrive) and the
        watch that drops clients who stopped reading."""
        self.namespace = ChatNamespace(app[SERVICES], self.settings, self.publisher)
        self.sio.register_namespace(self.namespace)
        app[SOCKET_COUNTS] = self.namespace.sockets_by_transport
        watch = asyncio.create_task(self.sio.watch_queues(self.settings.socket_queue_limit))
        yield
        watch.cancel()
        await self.namespace.close()

    async def goodbye(self, app: web.Application) -> None:
        """on_shutdown: aiohttp has stopped listening by now: finish in-flight events, then
        close every socket."""
        await self.namespace.drain(within=SHUTDOWN_DRAIN_SECONDS)
        await self.sio.say_goodbye()


async def _indexes_until_done(store: Store) -> None:
    """Create indexes; if the database is down at start-up, keep trying in the background."""
    while True:
        try:
            await store.ensure_indexes()
            return
        except Unavailable:
            log.error("database unreachable at start-up; will retry index creation in 5 s")
            await asyncio.sleep(INDEX_RETRY_SECONDS)


async def _settle_garbage_collector(app: web.Application) -> None:
    settle_garbage_collector()


def _add_routes_with_cors(app: web.Application, settings: Settings) -> None:
    """Every route, with CORS for CLIENT_URL's origins (credentials allowed, so never `*`)."""
    cors = aiohttp_cors.setup(
        app,
        defaults={
            origin: aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
                allow_credentials=True,
                expose_headers=("Retry-After", "X-Request-Id"),
                allow_headers=("Content-Type", "Authorization", "X-Request-Id"),
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                max_age=600,
            )
            for origin in settings.client_urls
        },
    )
    for route in add_routes(app):
        cors.add(route)

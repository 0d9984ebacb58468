"""Composition root: create_app(settings) builds store, services, Socket.IO server and routes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import aiohttp_cors
from aiohttp import web

from chat.api import middlewares, protocol
from chat.api.demo import add_demo_routes
from chat.api.keys import SERVICES, SETTINGS, SOCKET_COUNTS, STARTED_AT
from chat.api.routes import add_routes
from chat.errors import Unavailable
from chat.media.cloudinary_storage import CloudinaryStorage
from chat.media.storage import LocalStorage, Storage
from chat.ratelimit import RateLimiter
from chat.realtime.managers import ChatManager, ChatRedisManager
from chat.realtime.namespace import ChatNamespace
from chat.realtime.publisher import SocketPublisher
from chat.realtime.server import ChatServer
from chat.security import PasswordHasher, TokenCodec
from chat.services.access import Access
from chat.services.accounts import AccountService
from chat.services.catch_up import CatchUpService
from chat.services.container import Services
from chat.services.media import MB, Limits, MediaService
from chat.services.messages import MessageService
from chat.services.presence import Ledger, LocalLedger, PresenceService
from chat.services.rooms import RoomService
from chat.services.typing import TypingService
from chat.services.users import UserService
from chat.store import Store
from chat.store.presence_redis import RedisLedger
from chat.tuning import settle_garbage_collector
from config.settings import Settings

log = logging.getLogger("chat")

SOCKET_IO = web.AppKey("socket_io", ChatServer)
MAX_PACKET_BYTES = 1_000_000
SHUTDOWN_DRAIN_SECONDS = 3


def _origin_checker(settings: Settings):
    allowed = frozenset(settings.client_urls)

    def allowed_origin(origin: str | None, environ: dict) -> bool:
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin in allowed or origin == own

    return allowed_origin


def build_services(settings: Settings, sio: ChatServer) -> Services:
    store = Store(settings.mongodb_uri, settings.mongodb_db, settings.db_timeout_ms)
    publisher = SocketPublisher(sio)
    limiter = RateLimiter(
        {
            "auth": settings.rate_limit_auth,
            "login_account": settings.rate_limit_login_account,
            "api": settings.rate_limit_api,
            "messages": settings.rate_limit_messages,
            "user_messages": settings.rate_limit_user_messages,
            "edits": settings.rate_limit_edits,
            "reactions": settings.rate_limit_reactions,
            "typing": settings.rate_limit_typing,
        },
        redis_url=settings.redis_url,
    )
    ledger: Ledger = (
        RedisLedger(
            settings.redis_url, settings.presence_ttl_seconds, settings.presence_grace_seconds
        )
        if settings.redis_url
        else LocalLedger()
    )
    access = Access(store)
    presence = PresenceService(
        store, publisher, settings.presence_grace_seconds, ledger, access,
        room_limit=settings.presence_room_limit,
    )  # fmt: skip
    accounts = AccountService(
        store,
        PasswordHasher(settings.bcrypt_rounds),
        TokenCodec(settings.jwt_secret, settings.jwt_expires_in),
        publisher,
    )
    users = UserService(store, presence)
    typing = TypingService(access, publisher, settings.typing_timeout, limiter)
    rooms = RoomService(store, access, publisher, users)
    messages = MessageService(store, access, publisher, limiter, typing)
    media = MediaService(store, build_storage(settings), access, messages, Limits(
        image_bytes=int(settings.max_image_mb * MB), file_bytes=int(settings.max_file_mb * MB)))  # fmt: skip
    rooms.files_cleaner = media.delete_room_files
    return Services(
        store=store,
        accounts=accounts,
        users=users,
        presence=presence,
        rooms=rooms,
        messages=messages,
        catch_up=CatchUpService(store, access, messages, rooms),
        typing=typing,
        media=media,
        limiter=limiter,
    )


def build_storage(settings: Settings) -> Storage:
    """Cloudinary when it is configured, else the local uploads folder."""
    if settings.cloudinary_url:
        return CloudinaryStorage(settings.cloudinary_url)
    return LocalStorage(settings.uploads_path)


async def _indexes_until_done(store: Store) -> None:
    """Create indexes; if the database is down at start-up, keep trying in the background."""
    while True:
        try:
            await store.ensure_indexes()
            return
        except Unavailable:
            log.error("database unreachable at start-up; will retry index creation in 5 s")
            await asyncio.sleep(5)


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

    sio = ChatServer(
        async_mode="aiohttp",
        client_manager=ChatRedisManager(settings.redis_url)
        if settings.redis_url
        else ChatManager(),
        cors_allowed_origins=_origin_checker(settings),
        cors_credentials=True,
        max_http_buffer_size=MAX_PACKET_BYTES,
        # Events from one socket run one after another, in the order they were sent, from a
        # bounded inbox (ChatServer) so the transport keeps reading meanwhile.
        async_handlers=False,
        event_limit=settings.socket_event_limit,
        event_wait=settings.socket_event_wait,
        logger=False,
        engineio_logger=False,
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
    )
    app[SOCKET_IO] = sio
    services = build_services(settings, sio)
    app[SERVICES] = services
    namespace = ChatNamespace(services, settings)
    sio.register_namespace(namespace)
    app[SOCKET_COUNTS] = namespace.sockets_by_transport

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        indexes = asyncio.create_task(_indexes_until_done(services.store))
        background = [asyncio.create_task(sio.watch_queues(settings.socket_queue_limit))]
        ledger = services.presence.ledger
        if isinstance(ledger, RedisLedger):
            background.append(asyncio.create_task(ledger.heartbeat_forever()))
            reap_every = settings.presence_ttl_seconds / 2
            background.append(asyncio.create_task(services.presence.reap_forever(reap_every)))
        await asyncio.wait([indexes], timeout=settings.db_timeout_ms / 1000 + 1)
        settle_garbage_collector()
        yield
        indexes.cancel()
        for task in background:
            task.cancel()
        await namespace.close()
        services.typing.close()
        await services.presence.close()
        if isinstance(ledger, RedisLedger):
            await ledger.close()
        await services.store.close()

    app.cleanup_ctx.append(lifecycle)

    async def goodbye(app: web.Application) -> None:
        # aiohttp has stopped listening by now: finish in-flight events, then close every socket.
        await namespace.drain(within=SHUTDOWN_DRAIN_SECONDS)
        await sio.say_goodbye()

    app.on_shutdown.append(goodbye)

    routes = add_routes(app)
    cors = aiohttp_cors.setup(
        app,
        defaults={
            origin: aiohttp_cors.ResourceOptions(
                allow_credentials=True,
                expose_headers=("Retry-After", "X-Request-Id"),
                allow_headers=("Content-Type", "Authorization", "X-Request-Id"),
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                max_age=600,
            )
            for origin in settings.client_urls
        },
    )
    for route in routes:
        cors.add(route)
    if settings.demo_client:
        add_demo_routes(app)
    sio.attach(app)
    app.on_response_prepare.append(middlewares.security_headers)
    return app

"""Shared fixtures: one embedded database per run, a fresh database name per test, the real app,
a database a test may stop and restart, and a REST client for server processes.

Helpers (the user factory, ORIGIN, PASSWORD, bearer) live in tests/helpers.py: import them from
there, never from this file."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from chat.app import create_app
from chat.store.embedded import EmbeddedMongo
from config.settings import Settings
from tests.cluster import Api
from tests.helpers import ORIGIN, RestartableMongo
from tests.push_standin import PushService
from tests.realtime import Chat
from tests.smtp_server import SmtpServer


@pytest.fixture(scope="session")
def mongo() -> Iterator[EmbeddedMongo]:
    server = EmbeddedMongo(data_dir=None)  # in memory; each logical database is separate
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(mongo: EmbeddedMongo, tmp_path: Path) -> Settings:
    return Settings(
        jwt_secret="test-secret-" + "x" * 60,
        mongodb_uri=mongo.uri,
        mongodb_db=f"t_{uuid.uuid4().hex[:12]}",
        data_dir=tmp_path,
        client_urls=(ORIGIN,),
        bcrypt_rounds=4,
        rate_limit_auth="1000/minute",
        rate_limit_api="10000/minute",
        rate_limit_messages="1000/10seconds",
        # The per-user limits have tests of their own (test_event_limits) at their defaults.
        rate_limit_user_messages="100000/10seconds",
        rate_limit_edits="100000/minute",
        rate_limit_reactions="100000/minute",
        rate_limit_typing="100000/second",
        presence_grace_seconds=0.3,
        # Shedding by waiting time depends on the machine's speed: only the tests that check
        # shedding set a short one, so no other verdict depends on how busy the machine is.
        socket_event_wait=120,
        typing_timeout=0.5,
        log_level="warning",
    )


@pytest.fixture
def make_client(aiohttp_client: Callable[..., Any], settings: Settings) -> Callable[..., Any]:
    """Build the real app with some settings changed, and a test client for it."""

    async def make(**changes: Any) -> TestClient:
        app = create_app(dataclasses.replace(settings, **changes))
        return await aiohttp_client(app)

    return make


@pytest.fixture
async def client(make_client: Callable[..., Any]) -> AsyncIterator[TestClient]:
    yield await make_client()


@pytest.fixture
def restartable_mongo(tmp_path: Path) -> Iterator[RestartableMongo]:
    """A database of the test's own, on disk and started, that the test may kill or stop and
    `await restart()` on the same port; stopped at the end whatever happened."""
    database = RestartableMongo(tmp_path / "db")
    database.start()
    yield database
    database.stop()


@pytest.fixture
async def chat(
    aiohttp_server: Callable[..., Any], aiohttp_client: Callable[..., Any], settings: Settings
) -> AsyncIterator[Chat]:
    """The real app served on a loopback port, with a REST client and socket helpers."""
    server = await aiohttp_server(create_app(settings))
    rest = await aiohttp_client(server)
    harness = Chat(server, rest)
    yield harness
    await harness.close()


class Captured(logging.Handler):
    """Every record at INFO or above (the default LOG_LEVEL), formatted as a console line."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.bytes = 0
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.bytes += len(self.format(record)) + 1


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    """REST calls to server processes (tests.cluster.Node), as a mobile client makes them."""
    async with aiohttp.ClientSession() as session:
        yield Api(session)


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler, root = Captured(), logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a loopback port, receiving what the app sends."""
    async with SmtpServer() as server:
        yield server


@pytest.fixture
async def push() -> AsyncIterator[PushService]:
    """A loopback push service that checks what a real one checks (tests/push_standin.py)."""
    service = PushService()
    await service.start()
    yield service
    await service.close()

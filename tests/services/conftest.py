"""The service layer: the real services, built by the real factory over a real Store (on the
session's embedded database, a fresh database per test), with a recording publisher. No app, no
sockets: each test says exactly which events, payloads and audiences an action announces."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from chat.domain import RoomType, User
from chat.services.container import Services
from chat.services.factory import build_limiter, build_services, build_storage
from chat.services.ledger import LocalLedger
from chat.store import Store
from config.settings import Settings
from tests.helpers import PASSWORD
from tests.services.recorder import Recorder

ROOM_LIMIT = 3  # presence is pushed in rooms of at most this many members (100 by default)


@dataclass
class World:
    services: Services
    recorder: Recorder

    async def user(self, name: str = "User") -> User:
        email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        return (await self.services.accounts.register(name, email, PASSWORD)).user

    async def users(self, *names: str) -> list[User]:
        return [await self.user(name) for name in names]

    async def room(self, owner: User, *members: User, kind: RoomType = "public") -> str:
        """A room of `owner` that `members` joined, in that order; nothing of it recorded."""
        view = await self.services.rooms.create(owner.id, f"{owner.name}'s", "", kind)
        for member in members:
            await self.services.rooms.join(member.id, view["id"], view.get("inviteCode"))
        self.recorder.take()
        return str(view["id"])


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Short timers: the tests wait for them by progress (a later timer firing), never by guessing.
    return dataclasses.replace(
        settings, typing_timeout=0.05, presence_grace_seconds=0.05, presence_room_limit=ROOM_LIMIT
    )


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    recorder = Recorder()
    store = Store(settings.mongodb_uri, settings.mongodb_db, settings.db_timeout_ms)
    await store.ensure_indexes()
    services = build_services(
        settings,
        store=store,
        ledger=LocalLedger(),
        limiter=build_limiter(settings),
        storage=build_storage(settings),
        publisher=recorder,
    )
    await services.start()
    yield World(services, recorder)
    await services.close()
    await store.close()

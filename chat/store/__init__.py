"""The store: a MongoDB client and one repository per collection; the only pymongo user."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from chat.store.bans import BanRepo
from chat.store.base import new_id, now_ms, utcnow
from chat.store.blocks import BlockRepo
from chat.store.members import MemberRepo
from chat.store.message_refs import MessageRefRepo
from chat.store.messages import MessageRepo
from chat.store.mutes import MuteRepo
from chat.store.push_subscriptions import PushSubscriptionRepo
from chat.store.reactions import ReactionRepo
from chat.store.reports import ReportRepo
from chat.store.rooms import RoomRepo
from chat.store.sent import SentMessageRepo
from chat.store.sessions import SessionRepo
from chat.store.tokens import TokenRepo
from chat.store.uploads import UploadRepo
from chat.store.users import UserRepo

__all__ = ["Store", "new_id", "now_ms", "utcnow"]


class _Indexed(Protocol):
    async def ensure_indexes(self) -> None: ...


class Store:
    """Owns the client. `open()` checks nothing; `ensure_indexes()` is idempotent."""

    def __init__(self, uri: str, db_name: str, timeout_ms: int = 2000) -> None:
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            uri,
            tz_aware=True,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=max(timeout_ms * 5, 10000),
            appname="chat",
        )
        self.db = self.client[db_name]
        self.users = UserRepo(self.db["users"])
        self.sessions = SessionRepo(self.db["sessions"])
        self.rooms = RoomRepo(self.db["rooms"])
        self.members = MemberRepo(self.db["members"])
        self.messages = MessageRepo(self.db["messages"])
        self.message_refs = MessageRefRepo(self.db["messages"])  # threads, pins, mentions
        self.reactions = ReactionRepo(self.db["reactions"])
        self.uploads = UploadRepo(self.db["uploads"])
        self.push_subscriptions = PushSubscriptionRepo(self.db["push_subscriptions"])
        self.sent = SentMessageRepo(self.db["messages"])  # one account's messages
        self.tokens = TokenRepo(self.db["account_tokens"])
        self.blocks = BlockRepo(self.db["blocks"])  # moderation: blocks, bans, mutes, reports
        self.bans = BanRepo(self.db["bans"])
        self.mutes = MuteRepo(self.db["mutes"])
        self.reports = ReportRepo(self.db["reports"])
        self._repos: list[_Indexed] = [
            self.users, self.sessions, self.rooms, self.members, self.messages, self.reactions,
            self.uploads, self.message_refs, self.push_subscriptions,
            self.blocks, self.bans, self.mutes, self.reports,
            self.sent, self.tokens,
        ]  # fmt: skip

    async def ensure_indexes(self) -> None:
        for repo in self._repos:
            await repo.ensure_indexes()

    async def ping(self, within: float = 2.5) -> bool:
        """True when the database answers within `within` seconds."""
        try:
            await asyncio.wait_for(self.client.admin.command("ping"), within)
            return True
        except (PyMongoError, TimeoutError, OSError):
            return False

    async def close(self) -> None:
        await self.client.close()

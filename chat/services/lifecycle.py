"""An account's life past sign-up: password reset and email verification by email
(recovery.py), export (account_export.py) and deletion (account_deletion.py), built together."""

from __future__ import annotations

from dataclasses import dataclass

from chat.ratelimit import RateLimiter
from chat.security import PasswordHasher
from chat.services.account_deletion import AccountDeletion
from chat.services.account_export import AccountExport
from chat.services.account_tokens import AccountTokens
from chat.services.attachment_files import AttachmentFiles
from chat.services.events import Publisher
from chat.services.file_urls import FileUrls
from chat.services.mailer import Mailer
from chat.services.messages import MessageService
from chat.services.orphans import OrphanUploads
from chat.services.recovery import RecoveryService
from chat.services.rooms import RoomService
from chat.services.users import UserService
from chat.store import Store
from config.settings import Settings


@dataclass
class AccountLifecycle:
    recovery: RecoveryService
    deletion: AccountDeletion
    export: AccountExport

    async def close(self) -> None:
        """Give the emails in flight a moment (2 s), then stop the rest."""
        await self.recovery.close()


@dataclass(frozen=True)
class Parts:
    """What the lifecycle services are built from (the factory's own collaborators)."""

    store: Store
    hasher: PasswordHasher
    limiter: RateLimiter
    publisher: Publisher
    users: UserService
    rooms: RoomService
    messages: MessageService
    files: AttachmentFiles
    orphans: OrphanUploads
    urls: FileUrls


def build_lifecycle(settings: Settings, mailer: Mailer, p: Parts) -> AccountLifecycle:
    tokens = AccountTokens(p.store, settings.reset_token_minutes)
    recovery = RecoveryService(
        p.store, tokens, p.hasher, mailer, p.publisher, p.limiter, p.users, settings.public_url
    )
    deletion = AccountDeletion(
        p.store, p.hasher, p.limiter, p.publisher, p.rooms, p.messages, p.files, p.orphans
    )
    return AccountLifecycle(recovery, deletion, AccountExport(p.store, p.users, p.urls))

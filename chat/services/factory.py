"""Builds the services, every collaborator passed to its constructor.

The composition root (chat/app.py) builds the infrastructure (database, presence ledger, rate
limiter, file storage, publisher) and hands it here; a test builds the same services with a
recording publisher, a real Store and a LocalLedger:

    services = build_services(settings, store=Store(uri, db), ledger=LocalLedger(),
                              limiter=build_limiter(settings),
                              storage=build_storage(settings), publisher=recorder)
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.media.cloudinary_storage import CloudinaryStorage
from chat.media.storage import LocalStorage, Storage
from chat.ratelimit import RateLimiter
from chat.security import PasswordHasher, TokenCodec
from chat.services.access import Access
from chat.services.accounts import AccountService
from chat.services.admin import AdminService
from chat.services.admins import ServerAdmins
from chat.services.attachment_files import AttachmentFiles
from chat.services.blocks import BlockService
from chat.services.catch_up import CatchUpService
from chat.services.container import Services
from chat.services.events import Publisher
from chat.services.file_urls import FileUrls
from chat.services.health import HealthService
from chat.services.history import HistoryService
from chat.services.ledger import Ledger
from chat.services.lifecycle import Parts, build_lifecycle
from chat.services.mailer import build_mailer
from chat.services.media import MB, Limits, MediaService
from chat.services.mentions import MentionService
from chat.services.messages import MessageService
from chat.services.moderation import ModerationService
from chat.services.notifications.build import build_notifications
from chat.services.orphans import OrphanUploads
from chat.services.pins import PinService
from chat.services.presence import PresenceService
from chat.services.receipts import ReceiptService
from chat.services.reports import ReportService
from chat.services.room_rules import RoomRulesCache, SendRules
from chat.services.rooms import RoomService
from chat.services.threads import ThreadService
from chat.services.throttle import RequestThrottle
from chat.services.typing import TypingService
from chat.services.users import UserService
from chat.store import Store
from config.settings import Settings


@dataclass(frozen=True)
class _Infra:
    settings: Settings
    store: Store
    ledger: Ledger
    limiter: RateLimiter
    storage: Storage
    publisher: Publisher


@dataclass(frozen=True)
class _Base:
    """What most services are built on: permissions, people, rooms, files."""

    access: Access
    presence: PresenceService
    hasher: PasswordHasher
    tokens: TokenCodec
    admins: ServerAdmins
    users: UserService
    rules: RoomRulesCache  # mutes, slow mode, blocks: services/room_rules.py
    typing: TypingService
    files: AttachmentFiles
    urls: FileUrls
    rooms: RoomService


def build_services(
    settings: Settings,
    *,
    store: Store,
    ledger: Ledger,
    limiter: RateLimiter,
    storage: Storage,
    publisher: Publisher,
) -> Services:
    """The services over this infrastructure; nothing starts until `Services.start()`."""
    infra = _Infra(settings, store, ledger, limiter, storage, publisher)
    b = _base(infra)
    mentions = MentionService(store, b.access, b.urls)
    threads = ThreadService(store, b.access, b.urls)
    notifications = build_notifications(settings, store, ledger, b.urls)
    b.rooms.on_level_change = notifications.level_changed
    messages = MessageService(
        store, b.access, publisher, limiter, b.typing, b.files, b.urls, mentions, threads,
        rules=SendRules(b.rules, b.access, limiter, b.admins), notifier=notifications,
    )  # fmt: skip
    reports = ReportService(store, b.access, b.users, b.urls)
    history = HistoryService(store, b.access, b.urls)
    media, orphans = _media(infra, b, messages)
    parts = Parts(
        store, b.hasher, limiter, publisher, b.users, b.rooms, messages, b.files, orphans, b.urls
    )
    return Services(
        accounts=AccountService(store, b.hasher, b.tokens, publisher, limiter),
        users=b.users,
        presence=b.presence,
        rooms=b.rooms,
        messages=messages,
        receipts=ReceiptService(store, b.access, publisher),
        history=history,
        catch_up=CatchUpService(store, b.access, history, b.rooms),
        typing=b.typing,
        media=media,
        health=HealthService(store),
        throttle=RequestThrottle(limiter, b.tokens),
        blocks=BlockService(store, b.users, b.rules),
        moderation=ModerationService(store, b.access, b.rooms.membership, b.users, b.rules),
        reports=reports,
        admin=AdminService(store, b.admins, publisher, reports, messages),
        mentions=mentions,
        threads=threads,
        pins=PinService(store, b.access, publisher, b.urls),
        notifications=notifications,
        # Email through SMTP_URL, else the log.
        lifecycle=build_lifecycle(settings, build_mailer(settings), parts),
    )


def _base(infra: _Infra) -> _Base:
    settings, store, publisher = infra.settings, infra.store, infra.publisher
    access = Access(store)
    presence = PresenceService(
        store, publisher, settings.presence_grace_seconds, infra.ledger, access,
        room_limit=settings.presence_room_limit,
        reap_every=settings.presence_ttl_seconds / 2,
    )  # fmt: skip
    admins = ServerAdmins(settings.admin_emails)
    users = UserService(store, presence, admins)
    files = AttachmentFiles(store, infra.storage)
    rules = RoomRulesCache(store)
    return _Base(
        access=access,
        presence=presence,
        hasher=PasswordHasher(settings.bcrypt_rounds),
        tokens=TokenCodec(settings.jwt_secret, settings.jwt_expires_in),
        admins=admins,
        users=users,
        rules=rules,
        typing=TypingService(access, publisher, settings.typing_timeout, infra.limiter, rules),
        files=files,
        urls=FileUrls(settings.jwt_secret),
        rooms=RoomService(store, access, publisher, users, files),
    )


def _media(infra: _Infra, b: _Base, messages: MessageService) -> tuple[MediaService, OrphanUploads]:
    settings = infra.settings
    limits = Limits(
        image_bytes=int(settings.max_image_mb * MB), file_bytes=int(settings.max_file_mb * MB)
    )
    orphans = OrphanUploads(infra.store, b.files, infra.storage.name, settings.upload_orphan_hours)
    media = MediaService(
        infra.store, infra.storage, b.files, b.access, messages, b.users, limits, b.urls, orphans
    )
    return media, orphans


def build_limiter(settings: Settings) -> RateLimiter:
    """The named rate-limit rules, counted in Redis when REDIS_URL is set, else in memory."""
    rules = {
        "auth": settings.rate_limit_auth,
        "login_account": settings.rate_limit_login_account,
        "api": settings.rate_limit_api,
        "messages": settings.rate_limit_messages,
        "user_messages": settings.rate_limit_user_messages,
        "edits": settings.rate_limit_edits,
        "reactions": settings.rate_limit_reactions,
        "typing": settings.rate_limit_typing,
    }
    return RateLimiter(rules, redis_url=settings.redis_url)


def build_storage(settings: Settings) -> Storage:
    """Cloudinary when it is configured, else the local uploads folder."""
    if settings.cloudinary_url:
        return CloudinaryStorage(settings.cloudinary_url)
    return LocalStorage(settings.uploads_path)

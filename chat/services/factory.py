"""Builds the services, every collaborator passed to its constructor.

The composition root (chat/app.py) builds the infrastructure (database, presence ledger, rate
limiter, file storage, publisher) and hands it here; a test builds the same services with a
recording publisher, a real Store and a LocalLedger:

    services = build_services(settings, store=Store(uri, db), ledger=LocalLedger(),
                              limiter=build_limiter(settings),
                              storage=build_storage(settings), publisher=recorder)
"""

from __future__ import annotations

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
    access = Access(store)
    presence = PresenceService(
        store, publisher, settings.presence_grace_seconds, ledger, access,
        room_limit=settings.presence_room_limit,
        reap_every=settings.presence_ttl_seconds / 2,
    )  # fmt: skip
    hasher = PasswordHasher(settings.bcrypt_rounds)
    tokens = TokenCodec(settings.jwt_secret, settings.jwt_expires_in)
    accounts = AccountService(store, hasher, tokens, publisher, limiter)
    admins = ServerAdmins(settings.admin_emails)
    users = UserService(store, presence, admins)
    rules = RoomRulesCache(store)  # mutes, slow mode, blocks: services/room_rules.py
    typing = TypingService(access, publisher, settings.typing_timeout, limiter)
    files = AttachmentFiles(store, storage)
    urls = FileUrls(settings.jwt_secret)
    rooms = RoomService(store, access, publisher, users, files)
    mentions = MentionService(store, access, urls)
    threads = ThreadService(store, access, urls)
    notifications = build_notifications(settings, store, ledger, urls)
    messages = MessageService(
        store, access, publisher, limiter, typing, files, urls, mentions, threads,
        rules=SendRules(rules, access, limiter, admins), notifier=notifications,
    )  # fmt: skip
    reports = ReportService(store, access, users, urls)
    history = HistoryService(store, access, urls)
    limits = Limits(
        image_bytes=int(settings.max_image_mb * MB), file_bytes=int(settings.max_file_mb * MB)
    )
    orphans = OrphanUploads(store, files, storage.name, settings.upload_orphan_hours)
    media = MediaService(store, storage, files, access, messages, users, limits, urls, orphans)
    lifecycle = build_lifecycle(
        settings,
        build_mailer(settings),  # SMTP_URL, else the log
        Parts(store, hasher, limiter, publisher, users, rooms, threads, files, orphans, urls),
    )
    return Services(
        accounts=accounts,
        users=users,
        presence=presence,
        rooms=rooms,
        messages=messages,
        receipts=ReceiptService(store, access, publisher),
        history=history,
        catch_up=CatchUpService(store, access, history, rooms),
        typing=typing,
        media=media,
        health=HealthService(store),
        throttle=RequestThrottle(limiter, tokens),
        blocks=BlockService(store, users, rules),
        moderation=ModerationService(store, access, rooms.membership, users, rules),
        reports=reports,
        admin=AdminService(store, admins, publisher, reports, messages),
        mentions=mentions,
        threads=threads,
        pins=PinService(store, access, publisher, urls),
        notifications=notifications,
        lifecycle=lifecycle,
    )


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

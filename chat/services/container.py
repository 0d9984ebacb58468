"""The set of services the transports share, built once by chat/services/factory.py."""

from __future__ import annotations

from dataclasses import dataclass

from chat.services.accounts import AccountService
from chat.services.admin import AdminService
from chat.services.blocks import BlockService
from chat.services.catch_up import CatchUpService
from chat.services.health import HealthService
from chat.services.history import HistoryService
from chat.services.lifecycle import AccountLifecycle
from chat.services.media import MediaService
from chat.services.mentions import MentionService
from chat.services.messages import MessageService
from chat.services.moderation import ModerationService
from chat.services.notifications.service import NotificationService
from chat.services.pins import PinService
from chat.services.presence import PresenceService
from chat.services.receipts import ReceiptService
from chat.services.reports import ReportService
from chat.services.rooms import RoomService
from chat.services.threads import ThreadService
from chat.services.throttle import RequestThrottle
from chat.services.typing import TypingService
from chat.services.users import UserService


@dataclass
class Services:
    accounts: AccountService
    users: UserService
    presence: PresenceService
    rooms: RoomService
    messages: MessageService
    receipts: ReceiptService
    history: HistoryService
    catch_up: CatchUpService
    typing: TypingService
    media: MediaService
    health: HealthService
    throttle: RequestThrottle
    mentions: MentionService
    threads: ThreadService
    pins: PinService
    notifications: NotificationService
    lifecycle: AccountLifecycle  # password reset, email verification, export, deletion
    blocks: BlockService  # safety and moderation: blocks, bans and mutes, reports, server admin
    moderation: ModerationService
    reports: ReportService
    admin: AdminService

    async def start(self) -> None:
        """Start the services' background work (the presence reaper, when nodes share presence;
        the sweep of orphan uploads; the notification workers)."""
        await self.presence.start()
        await self.media.start()
        await self.notifications.start()

    async def close(self) -> None:
        """Stop every timer and background task the services hold (notifications first: their
        last deliveries still read the store and the ledger)."""
        await self.notifications.close()
        await self.lifecycle.close()
        await self.media.close()
        await self.typing.close()
        await self.presence.close()

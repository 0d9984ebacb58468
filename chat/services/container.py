"""The set of services the transports share, built once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass

from chat.ratelimit import RateLimiter
from chat.services.accounts import AccountService
from chat.services.catch_up import CatchUpService
from chat.services.media import MediaService
from chat.services.messages import MessageService
from chat.services.presence import PresenceService
from chat.services.rooms import RoomService
from chat.services.typing import TypingService
from chat.services.users import UserService
from chat.store import Store


@dataclass
class Services:
    store: Store
    accounts: AccountService
    users: UserService
    presence: PresenceService
    rooms: RoomService
    messages: MessageService
    catch_up: CatchUpService
    typing: TypingService
    media: MediaService
    limiter: RateLimiter

"""How services announce what happened: an event, a payload and an audience, to a Publisher.

The realtime layer implements Publisher; services never learn how audiences become sockets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chat.domain import Message, User


@dataclass(frozen=True)
class Audience:
    """Who receives an event: everyone subscribed to some rooms, some users' sockets, and the
    sockets watching some users' presence (`presence-subscribe`), less every socket of
    `skip_users`."""

    rooms: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    skip_users: tuple[str, ...] = ()
    watchers_of: tuple[str, ...] = ()

    @classmethod
    def room(cls, room_id: str) -> Audience:
        return cls(rooms=(room_id,))

    @classmethod
    def of_users(cls, user_ids: Iterable[str]) -> Audience:
        return cls(users=tuple(dict.fromkeys(user_ids)))


class Publisher(Protocol):
    def origin(self) -> Any:
        """An opaque token for the connection whose request is being handled (None for REST),
        for work that publishes later on its behalf (a group commit)."""

    async def publish(
        self,
        event: str,
        payload: Mapping[str, object],
        audience: Audience,
        *,
        echo: bool = True,
        origin: Any = None,
    ) -> None:
        """Send to the audience. `echo=False` skips the connection whose request caused it:
        `origin`, or the one being handled now."""

    async def subscribe(self, user_id: str, room_id: str) -> None:
        """Put every connection of the user, on every node, into the room's channel."""

    async def unsubscribe(self, user_id: str, room_id: str) -> None:
        """Take every connection of the user, on every node, out of the room's channel."""

    async def end_sessions(self, session_ids: Iterable[str], reason: str) -> None:
        """Tell every connection of these sessions `session-expired`, then disconnect it."""


class Notifier(Protocol):
    """Tells people who are not connected about a stored message (services/notifications)."""

    def message_stored(self, message: Message, sender: User | None) -> None:
        """Hand the message over for notifying; returns at once and never raises."""


class NoNotifier:
    """Notifies nobody (tests of the services, tools)."""

    def message_stored(self, message: Message, sender: User | None) -> None:
        pass

"""A Publisher that records instead of delivering, like Zulip's capture_send_event: what each
service action announces (event, payload, audience) and which channel changes it asks for."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chat.services.events import Audience


@dataclass(frozen=True)
class Sent:
    """One publish, its audience as sets (a user named twice in an audience fails the test)."""

    event: str
    payload: Any
    rooms: frozenset[str] = frozenset()
    users: frozenset[str] = frozenset()
    skip_users: frozenset[str] = frozenset()
    watchers_of: frozenset[str] = frozenset()
    echo: bool = True
    origin: Any = None


@dataclass(frozen=True)
class Channel:
    """subscribe / unsubscribe (a user's sockets in or out of a room's channel), or
    end_sessions (then `user_id` is a session id and `room_id` the reason)."""

    op: str
    user_id: str
    room_id: str


def to(
    *,
    rooms: Iterable[str] = (),
    users: Iterable[str] = (),
    skip_users: Iterable[str] = (),
    watchers_of: Iterable[str] = (),
) -> dict[str, frozenset[str]]:
    """An audience as Sent's keyword arguments: `Sent(event, payload, **to(rooms=[room_id]))`."""
    return {
        "rooms": frozenset(rooms),
        "users": frozenset(users),
        "skip_users": frozenset(skip_users),
        "watchers_of": frozenset(watchers_of),
    }


def _once(names: tuple[str, ...]) -> frozenset[str]:
    assert len(set(names)) == len(names), f"named twice in an audience: {names}"
    return frozenset(names)


class Recorder:
    """The Publisher protocol (chat/services/events.py), recording into `log` in order."""

    def __init__(self) -> None:
        self.log: list[Sent | Channel] = []
        self.current_origin: Any = None  # the connection "being handled"; None is REST

    def origin(self) -> Any:
        return self.current_origin

    async def publish(
        self,
        event: str,
        payload: Mapping[str, object],
        audience: Audience,
        *,
        echo: bool = True,
        origin: Any = None,
    ) -> None:
        self.log.append(
            Sent(
                event, payload,
                rooms=_once(audience.rooms), users=_once(audience.users),
                skip_users=_once(audience.skip_users), watchers_of=_once(audience.watchers_of),
                echo=echo, origin=origin,
            )
        )  # fmt: skip

    async def subscribe(self, user_id: str, room_id: str) -> None:
        self.log.append(Channel("subscribe", user_id, room_id))

    async def unsubscribe(self, user_id: str, room_id: str) -> None:
        self.log.append(Channel("unsubscribe", user_id, room_id))

    async def end_sessions(self, session_ids: Iterable[str], reason: str) -> None:
        for session_id in session_ids:
            self.log.append(Channel("end_sessions", session_id, reason))

    async def until(self, count: int) -> None:
        """Wait until the log holds `count` entries: for what timers announce (a grace period,
        a typing timeout). Bounded for a stuck test, not a guess at how long they take."""
        for _ in range(3000):
            if len(self.log) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"expected {count} entries, got {self.log}")

    def take(self) -> list[Sent | Channel]:
        """Everything recorded since the last take, in order; the log starts again empty."""
        taken, self.log = self.log, []
        return taken

    def sent(self) -> list[Sent]:
        """The publishes since the last take (channel changes left out); the log is emptied."""
        return [entry for entry in self.take() if isinstance(entry, Sent)]

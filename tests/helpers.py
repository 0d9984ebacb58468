"""What many test modules share: the one way to make a user, REST paging, a restartable database.

Test modules import helpers from here (or from tests.realtime, tests.cluster, tests.media_files),
never from conftest.py or from one another.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from chat.store.embedded import EmbeddedMongo

ORIGIN = "http://localhost:5173"
PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class User:
    """A registered user as a client holds it: the register reply's user and token."""

    id: str
    name: str
    email: str
    token: str
    profile: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.token)


class Http(Protocol):
    """An aiohttp TestClient (paths) or ClientSession (URLs): both have `post`."""

    def post(self, url: str, **kw: Any) -> Any: ...


async def register(
    http: Http,
    name: str = "User",
    *,
    email: str | None = None,
    password: str = PASSWORD,
    base: str = "",
) -> User:
    """The one user factory: register over REST (at `base`, a node's URL, if given)."""
    email = email or f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    async with http.post(
        base + "/api/auth/register", json={"name": name, "email": email, "password": password}
    ) as resp:
        body = await resp.json()
        assert resp.status == 201, body
    return User(body["user"]["id"], name, body["user"]["email"], body["token"], body["user"])


ApiCall = Callable[..., Awaitable[tuple[int, Any]]]


async def all_history(api: ApiCall, room_id: str, user: User) -> list[dict[str, Any]]:
    """Every message of a room, oldest first, paging `?after=` through REST (`chat.api`)."""
    messages: list[dict[str, Any]] = []
    after = 0
    while True:
        _, page = await api("GET", f"/api/rooms/{room_id}/messages?after={after}&limit=100", user)
        messages += page["messages"]
        if not page["hasMore"]:
            return messages
        after = page["messages"][-1]["seq"]


class RestartableMongo:
    """An embedded database on disk that a test kills or stops and starts again on the same port
    (so an app that is never restarted must find it again by itself)."""

    def __init__(self, data_dir: Path):
        self.server = EmbeddedMongo(data_dir)

    @property
    def uri(self) -> str:
        return self.server.uri

    def start(self) -> None:
        self.server.start()

    async def restart(self) -> None:
        """Start again on the same files and port; the event loop keeps running meanwhile."""
        await asyncio.to_thread(self.server.start)

    def stop(self) -> None:
        self.server.stop()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.server.kill()


async def eventually(
    attempt: Callable[[], Awaitable[Any]],
    until: Callable[[Any], bool] = bool,
    *,
    within: float = 15,
    every: float = 0.2,
) -> Any:
    """Retry `attempt` until its answer satisfies `until` or `within` seconds pass; returns the
    last answer either way, for the caller's assertion to show."""
    deadline = time.monotonic() + within
    while True:
        answer = await attempt()
        if until(answer) or time.monotonic() >= deadline:
            return answer
        await asyncio.sleep(every)


class Mailbox(Protocol):
    """tests.smtp_server.SmtpServer, as the helpers below use it."""

    async def wait_for(self, recipient: str) -> Any: ...


async def verify_email(http: Http, user: User, mailbox: Mailbox, *, base: str = "") -> None:
    """Verify the user's address as they would: ask for the mail, follow its link. (A server
    admin is an ADMIN_EMAILS account whose address is verified.)"""
    async with http.post(base + "/api/auth/email/verify-request", headers=user.auth) as resp:
        assert resp.status == 202, await resp.text()
    token = (await mailbox.wait_for(user.email)).link_token("verify")
    async with http.post(base + "/api/auth/email/verify", json={"token": token}) as resp:
        assert resp.status == 200, await resp.text()
